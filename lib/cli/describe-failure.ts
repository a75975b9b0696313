/**
 * A failed execution's error as a person should read it: the name and the message, which carries the
 * action. Lambda errors arrive as a JSON Cause `{errorType, errorMessage, trace}`; the trace is for
 * the logs, not for the user.
 */
export function describeFailure(error: { name: string; cause: string }): string {
  return `${error.name}: ${messageOf(error.cause)}`;
}

function messageOf(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; Cause?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
    if (typeof parsed.Cause === 'string') return messageOf(parsed.Cause);
  } catch {
    // Not JSON: a Fail state's own Cause, already plain text.
  }
  return cause;
}
