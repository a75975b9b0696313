import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

/** Where a workflow's Catch puts the error it caught, and its undo steps' own errors. */
export const ERROR_PATH = '$.error';
export const UNDO_ERROR_PATH = '$.undoError';

/**
 * The workflow's last state after a failure: the execution fails with the caught error's name and
 * cause, so that callers see e.g. MountPointNotEmptyError rather than a generic failure.
 */
export function failWithCaughtError(scope: Construct, id = 'Failed'): sfn.Fail {
  return new sfn.Fail(scope, id, { errorPath: `${ERROR_PATH}.Error`, causePath: `${ERROR_PATH}.Cause` });
}

/**
 * A Pass state for an undo step's Catch: keeps the original error's name and appends the undo's
 * failure to its cause, so that the user learns something was left behind.
 */
export function noteUndoFailure(scope: Construct, id: string): sfn.Pass {
  return new sfn.Pass(scope, id, {
    parameters: {
      Error: sfn.JsonPath.stringAt(`${ERROR_PATH}.Error`),
      Cause: sfn.JsonPath.format(
        '{} (undo failed too, clean up by hand: {}: {})',
        sfn.JsonPath.stringAt(`${ERROR_PATH}.Cause`),
        sfn.JsonPath.stringAt(`${UNDO_ERROR_PATH}.Error`),
        sfn.JsonPath.stringAt(`${UNDO_ERROR_PATH}.Cause`),
      ),
    },
    resultPath: ERROR_PATH,
  });
}

/**
 * Sends an undo step's own failure to a {@link noteUndoFailure} Pass named `Note<id>Failure`, then to
 * `failed`: the undo stops there, since later undo steps assume this one succeeded.
 */
export function catchUndoFailure(
  undo: { addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): unknown },
  scope: Construct,
  id: string,
  failed: sfn.Fail,
): void {
  undo.addCatch(noteUndoFailure(scope, `Note${id}Failure`).next(failed), { resultPath: UNDO_ERROR_PATH });
}
