import type { MiddlewareObj, Request } from '@middy/core';
import { formatErrorText } from '../../../lib/core/error-text';
import { isSnapflowError, QueueingErrorNames } from '../../../lib/core/errors';

/** One structured log line about a failed invocation. */
export type ErrorLogEntry = Record<string, string | undefined>;

export interface SnapflowErrorsOptions {
  /**
   * Where to write the log line.
   * @default one JSON line on stderr
   */
  log?: (entry: ErrorLogEntry) => void;
}

const defaults: Required<SnapflowErrorsOptions> = {
  log: (entry) => console.error(JSON.stringify(entry)),
};

/**
 * Makes a step's failure reach Step Functions intact. Lambda reports only an error's name and message,
 * and Retry/Catch match on the name, so a {@link SnapflowError} leaves as an error with the same name
 * whose message also carries the action and the command output, which Lambda would otherwise drop
 * ({@link formatErrorText}).
 * Other errors leave unchanged. Each failure is logged as one line with the error's name, message,
 * field and action; never the event or the environment, which may hold host details and tokens. A
 * queueing error (another run holds the dataset) is logged at level `info`: the workflow retries it
 * until the lease is free, so it means "waiting", and a queued run would otherwise log an error per attempt.
 */
export function snapflowErrors(opts: SnapflowErrorsOptions = {}): MiddlewareObj {
  const { log } = { ...defaults, ...opts };

  const snapflowErrorsMiddlewareOnError = (request: Request): void => {
    const { error } = request;
    if (error === null) return;
    const queueing = isSnapflowError(error) && QueueingErrorNames.includes(error.name);
    log({
      level: queueing ? 'info' : 'error',
      errorName: error.name,
      message: error.message,
      ...(isSnapflowError(error) ? { field: error.field, action: error.action } : {}),
      requestId: request.context?.awsRequestId,
    });
    if (!isSnapflowError(error)) return;
    const failure = new Error(
      formatErrorText({
        message: error.message,
        action: error.action,
        ...(error.output === undefined ? {} : { output: error.output }),
      }),
      { cause: error },
    );
    failure.name = error.name;
    request.error = failure;
  };

  return { onError: snapflowErrorsMiddlewareOnError };
}
