import { describeCause, withUndoNote } from '../error-text';

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
    Cause: withUndoNote(error.Cause, undoError.Error, describeCause(undoError.Cause).message),
  };
}
