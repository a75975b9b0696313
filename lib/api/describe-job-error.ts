import { describeCause } from '../core/error-text';

/** A failed job's error as the API answers it. */
export interface JobError {
  code: string;
  message: string;
  action: string;
}

/**
 * Turns the error and cause that ended an execution into `{code, message, action}`: the message and
 * action of the error in the cause ({@link describeCause}), with a general action where the cause
 * gives none (a Fail state's own text, a timeout).
 */
export function describeJobError(error: { name: string; cause: string }): JobError {
  const { message, action } = describeCause(error.cause);
  return { code: error.name, message, action: action ?? defaultAction(error.name) };
}

function defaultAction(name: string): string {
  if (name === 'States.Timeout') return 'The workflow ran out of time; look at the step it was on, then run it again.';
  return "See the job's steps for the one that failed, and the execution's history for details.";
}
