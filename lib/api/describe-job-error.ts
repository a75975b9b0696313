/** A failed job's error as the API answers it. */
export interface JobError {
  code: string;
  message: string;
  action: string;
}

const ACTION_MARKER = '\nAction: ';
const OUTPUT_MARKER = '\nOutput:\n';

/**
 * Turns the error and cause that ended an execution into `{code, message, action}`. A Lambda task's
 * cause is JSON `{errorType, errorMessage, trace}`; Snapflow's handlers end the message with
 * `\nAction: …` (and `\nOutput:\n…` for host commands), which is split off here. A `.sync` child's
 * failure arrives as the child's description with its own `Cause` inside, and an undo that failed as
 * well appends a note after the JSON; both are unwrapped. A cause that is not JSON is a Fail state's
 * own text.
 */
export function describeJobError(error: { name: string; cause: string }): JobError {
  const { message, note } = messageOf(error.cause);
  const actionAt = message.indexOf(ACTION_MARKER);
  const text = actionAt === -1 ? message : message.slice(0, actionAt);
  const action =
    actionAt === -1
      ? defaultAction(error.name)
      : (message.slice(actionAt + ACTION_MARKER.length).split(OUTPUT_MARKER)[0] ?? '').trim();
  return { code: error.name, message: `${text.trim()}${note}`, action };
}

function messageOf(cause: string): { message: string; note: string } {
  const parsed = parseLeadingJson(cause);
  if (parsed === undefined) return { message: cause, note: '' };
  const { value, rest } = parsed;
  if (typeof value.errorMessage === 'string') return { message: value.errorMessage, note: rest };
  if (typeof value.Cause === 'string') {
    const inner = messageOf(value.Cause);
    return { message: inner.message, note: `${inner.note}${rest}` };
  }
  return { message: cause, note: '' };
}

/** A JSON object at the start of `text`, and what follows it. */
function parseLeadingJson(text: string): { value: Record<string, unknown>; rest: string } | undefined {
  if (!text.startsWith('{')) return undefined;
  const whole = tryParse(text);
  if (whole !== undefined) return { value: whole, rest: '' };
  // An undo failure is appended as " (undo failed too, …)", which may hold JSON of its own: the
  // original cause is the shortest prefix that parses.
  for (let end = text.indexOf('} ('); end !== -1; end = text.indexOf('} (', end + 1)) {
    const value = tryParse(text.slice(0, end + 1));
    if (value !== undefined) return { value, rest: text.slice(end + 1) };
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

function defaultAction(name: string): string {
  if (name === 'States.Timeout') return 'The workflow ran out of time; look at the step it was on, then run it again.';
  return "See the job's steps for the one that failed, and the execution's history for details.";
}
