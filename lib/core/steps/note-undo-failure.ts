/** An error as a Step Functions Catch hands it over. */
export interface CaughtError {
  Error: string;
  Cause: string;
}

export interface NoteUndoFailureInput {
  /** The error the workflow fails with: what went wrong first. */
  error: CaughtError;
  /** The error of the undo step that failed after it. */
  undoError: CaughtError;
}

/** What a workflow appends to its cause when an undo step fails too; the API and CLI look for it. */
export const UNDO_FAILED_NOTE = ' (undo failed too, clean up by hand: ';

const ACTION_MARKER = '\nAction: ';

/**
 * The error a workflow fails with once an undo step has failed too: the original error's name, and its
 * cause (unchanged, so that its JSON still parses) followed by what the undo's failure left behind,
 * `(undo failed too, clean up by hand: <name>: <message>)`. This runs as a step of its own rather than
 * a `States.Format`, which the local interpreter mangles when a value holds backslashes (a JSON cause).
 */
export async function noteUndoFailure(input: NoteUndoFailureInput): Promise<CaughtError> {
  const { error, undoError } = input;
  return {
    Error: error.Error,
    Cause: `${error.Cause}${UNDO_FAILED_NOTE}${undoError.Error}: ${messageOf(undoError.Cause)})`,
  };
}

/** A Lambda error's own message (without its action and output), or a Fail state's cause as it is. */
export function messageOf(cause: string): string {
  try {
    const { errorMessage } = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof errorMessage === 'string') return errorMessage.split(ACTION_MARKER)[0] ?? errorMessage;
  } catch {
    // Not a Lambda error document: a Fail state's own cause.
  }
  return cause;
}
