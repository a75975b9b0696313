/**
 * Every error Snapflow raises on purpose has one of these names. Step Functions Retry/Catch match on
 * `error.name`, the engine API answers with it as `error.code`, and CDK imports the same map, so a
 * name is defined once and nowhere else.
 */
export const ErrorNames = {
  Validation: 'ValidationError',
  NotFound: 'NotFoundError',
  Conflict: 'ConflictError',
  DatasetBusy: 'DatasetBusyError',
  DependentsExist: 'DependentsExistError',
  Unauthorized: 'UnauthorizedError',
  EngineUnavailable: 'EngineUnavailableError',
  Storage: 'StorageError',
  UnsupportedOperation: 'UnsupportedOperationError',
  MountPointNotEmpty: 'MountPointNotEmptyError',
  MountPointBusy: 'MountPointBusyError',
  MountPointMissing: 'MountPointMissingError',
  CopyFailed: 'CopyFailedError',
  SourceUnreachable: 'SourceUnreachableError',
  StorageFull: 'StorageFullError',
  HostCommandFailed: 'HostCommandFailedError',
  HostCommandTimedOut: 'HostCommandTimedOutError',
  ParameterRejected: 'ParameterRejectedError',
} as const;

export type ErrorName = (typeof ErrorNames)[keyof typeof ErrorNames];

const errorNameSet: ReadonlySet<string> = new Set(Object.values(ErrorNames));

/** Whether `name` is one of Snapflow's own error names. */
export function isErrorName(name: string): name is ErrorName {
  return errorNameSet.has(name);
}

/** Errors that a retry may cure; Step Functions retries these, nothing else. */
export const TransientErrorNames: readonly ErrorName[] = [ErrorNames.EngineUnavailable];

/** Another workflow holds the dataset: waiting (a Retry with backoff) is how a run queues behind it. */
export const QueueingErrorNames: readonly ErrorName[] = [ErrorNames.DatasetBusy];

/** HTTP status the engine and the API answer with for each error. */
export const HttpStatusByError: Readonly<Record<ErrorName, number>> = {
  ValidationError: 400,
  NotFoundError: 404,
  ConflictError: 409,
  DatasetBusyError: 409,
  DependentsExistError: 409,
  UnauthorizedError: 401,
  EngineUnavailableError: 503,
  StorageError: 500,
  UnsupportedOperationError: 501,
  MountPointNotEmptyError: 409,
  MountPointBusyError: 409,
  MountPointMissingError: 409,
  CopyFailedError: 502,
  SourceUnreachableError: 502,
  StorageFullError: 507,
  HostCommandFailedError: 502,
  HostCommandTimedOutError: 504,
  ParameterRejectedError: 400,
};

export interface SnapflowErrorDetails {
  /** What the user can do about it. */
  action: string;
  /** The input field at fault, as a dotted path (e.g. `virtualSource.mountLocation`). */
  field?: string;
  /** Output of the failing command or other evidence. */
  output?: string;
}

/**
 * The one error class: message says what went wrong, `action` what to do about it, `name` which
 * kind it is (from {@link ErrorNames}).
 */
export class SnapflowError extends Error {
  override readonly name: ErrorName;
  readonly action: string;
  readonly field?: string;
  readonly output?: string;

  constructor(name: ErrorName, message: string, details: SnapflowErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
    this.action = details.action;
    if (details.field !== undefined) this.field = details.field;
    if (details.output !== undefined) this.output = details.output;
  }

  /** The JSON body the engine and the API answer with. */
  toJSON(): { error: { code: ErrorName; message: string; action: string; field?: string; output?: string } } {
    return {
      error: {
        code: this.name,
        message: this.message,
        action: this.action,
        ...(this.field === undefined ? {} : { field: this.field }),
        ...(this.output === undefined ? {} : { output: this.output }),
      },
    };
  }
}

/** Narrows caught values by name, so errors from another realm or a JSON round trip still match. */
export function isSnapflowError(error: unknown, name?: ErrorName): error is SnapflowError {
  if (!(error instanceof Error) || !isErrorName(error.name)) return false;
  return name === undefined || error.name === name;
}

/**
 * The SnapflowError a JSON error body stands for: the inverse of {@link SnapflowError.toJSON}, for
 * clients of the engine and the API. Undefined when `body` is no such body (a proxy's answer, say) or
 * names an error this version does not know.
 *
 * @param missingAction The action when the body gives none.
 */
export function snapflowErrorFromJson(body: unknown, missingAction: string): SnapflowError | undefined {
  const error = (body as { error?: Partial<Record<string, unknown>> | null } | null | undefined)?.error;
  const code = error?.code;
  if (typeof code !== 'string' || !isErrorName(code) || typeof error?.message !== 'string') return undefined;
  return new SnapflowError(code, error.message, {
    action: typeof error.action === 'string' ? error.action : missingAction,
    ...(typeof error.field === 'string' ? { field: error.field } : {}),
    ...(typeof error.output === 'string' ? { output: error.output } : {}),
  });
}
