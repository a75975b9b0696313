/**
 * The text a Snapflow error leaves a Lambda function as, and how it is read back. Lambda reports only
 * an error's name and message, so the message also carries the action and, for host commands, the
 * command's output: `<message>\nAction: <action>\nOutput:\n<output>`. Step Functions hands that on as
 * the `errorMessage` of a task's JSON cause, and a workflow whose undo step failed as well appends
 * {@link UNDO_FAILED_NOTE} to its cause. The Lambda middleware writes this text; workflow steps, the
 * API and the CLI read it.
 */

/** The line that starts the action, and the one that starts the output. */
const ACTION = 'Action: ';
const OUTPUT = 'Output:\n';

/** What a workflow appends to its cause when an undo step fails too, before the undo's error. */
export const UNDO_FAILED_NOTE = ' (undo failed too, clean up by hand: ';

/** The parts of a Snapflow error that its text carries. */
export interface ErrorText {
  message: string;
  action: string;
  /** Output of the failing host command. */
  output?: string;
}

/** An error's message, action and output as one text, the message a Lambda function fails with. */
export function formatErrorText(error: ErrorText): string {
  return [
    error.message,
    `${ACTION}${error.action}`,
    ...(error.output === undefined ? [] : [`${OUTPUT}${error.output}`]),
  ].join('\n');
}

/** {@link formatErrorText}'s text split again; a text without an action is all message. */
export function parseErrorText(text: string): { message: string; action?: string; output?: string } {
  const actionAt = text.indexOf(`\n${ACTION}`);
  if (actionAt === -1) return { message: text };
  const rest = text.slice(actionAt + 1 + ACTION.length);
  const outputAt = rest.indexOf(`\n${OUTPUT}`);
  return {
    message: text.slice(0, actionAt),
    action: outputAt === -1 ? rest : rest.slice(0, outputAt),
    ...(outputAt === -1 ? {} : { output: rest.slice(outputAt + 1 + OUTPUT.length) }),
  };
}

/**
 * A workflow's cause with the failure of its undo step noted after it, left whole so that its JSON
 * still parses: `<cause> (undo failed too, clean up by hand: <undoName>: <undoMessage>)`.
 */
export function withUndoNote(cause: string, undoName: string, undoMessage: string): string {
  return `${cause}${UNDO_FAILED_NOTE}${undoName}: ${undoMessage})`;
}

/**
 * What an execution's error cause says: the message (followed by a failed undo's note) and the action
 * of the error inside. A Lambda task's cause is JSON `{errorType, errorMessage, trace}` with
 * {@link formatErrorText}'s text as its message; a `.sync` child's failure is the child's description
 * with its own `Cause` inside, which is unwrapped. A cause that is not JSON is a Fail state's own text.
 * The output is left out: it is for the logs, not for a summary.
 */
export function describeCause(cause: string): { message: string; action?: string } {
  const { text, note } = causeText(cause);
  const { message, action } = parseErrorText(text);
  return { message: `${message.trim()}${note}`, ...(action === undefined ? {} : { action: action.trim() }) };
}

/** The error text inside a cause, and the undo note after it. */
function causeText(cause: string): { text: string; note: string } {
  const parsed = parseLeadingJson(cause);
  if (parsed === undefined) return { text: cause, note: '' };
  const { value, rest } = parsed;
  if (typeof value.errorMessage === 'string') return { text: value.errorMessage, note: rest };
  if (typeof value.Cause === 'string') {
    const inner = causeText(value.Cause);
    return { text: inner.text, note: `${inner.note}${rest}` };
  }
  return { text: cause, note: '' };
}

/** A JSON object at the start of `text`, and the undo note that follows it, if any. */
function parseLeadingJson(text: string): { value: Record<string, unknown>; rest: string } | undefined {
  if (!text.startsWith('{')) return undefined;
  const whole = tryParse(text);
  if (whole !== undefined) return { value: whole, rest: '' };
  // The note may hold JSON of its own, and a child's cause inside the JSON may hold a note too: the
  // cause is the first prefix before a note that parses.
  const end = `}${UNDO_FAILED_NOTE}`;
  for (let at = text.indexOf(end); at !== -1; at = text.indexOf(end, at + 1)) {
    const value = tryParse(text.slice(0, at + 1));
    if (value !== undefined) return { value, rest: text.slice(at + 1) };
  }
  return undefined;
}

function tryParse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
