import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';

/** Where a workflow's Catch puts the error it caught. */
export const ERROR_PATH = '$.error';
/** Where an undo step's Catch puts the undo's own error, beside the original one. */
const UNDO_ERROR_PATH = '$.undoError';
/** Where the note step's own failure goes: the workflow then fails with the original error as it was. */
const NOTE_ERROR_PATH = '$.noteError';

/**
 * The workflow's last state after a failure: the execution fails with the caught error's name and
 * cause, so that callers see e.g. MountPointNotEmptyError rather than a generic failure.
 */
export function failWithCaughtError(scope: Construct, id = 'Failed'): sfn.Fail {
  return new sfn.Fail(scope, id, { errorPath: `${ERROR_PATH}.Error`, causePath: `${ERROR_PATH}.Cause` });
}

/**
 * A task of the note-undo-failure function for an undo step's Catch, then `failed`: keeps the original
 * error's name and appends the undo's failure to its cause, so that the user learns both what went
 * wrong and what was left behind.
 */
function noteUndoFailure(
  scope: Construct,
  id: string,
  noteFunction: lambda.IFunction,
  failed: sfn.IChainable,
): sfn.IChainable {
  const note = lambdaStep(scope, id, noteFunction, {
    payload: sfn.TaskInput.fromObject({
      error: sfn.JsonPath.objectAt(ERROR_PATH),
      undoError: sfn.JsonPath.objectAt(UNDO_ERROR_PATH),
    }),
    resultPath: ERROR_PATH,
  });
  note.addCatch(failed, { resultPath: NOTE_ERROR_PATH });
  return note.next(failed);
}

/**
 * Sends an undo step's own failure to a {@link noteUndoFailure} task named `Note<id>Failure`, then to
 * `failed`: the undo stops there, since later undo steps assume this one succeeded (nothing is deleted
 * while it may still be mounted).
 */
function catchUndoFailure(
  undo: { addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): unknown },
  scope: Construct,
  id: string,
  noteFunction: lambda.IFunction,
  failed: sfn.IChainable,
): void {
  undo.addCatch(noteUndoFailure(scope, `Note${id}Failure`, noteFunction, failed), { resultPath: UNDO_ERROR_PATH });
}

/** A step of an undo, and the id its note task is named after: `Note<noteId>Failure`. */
export type UndoStep = readonly [step: sfn.IChainable & Undoable, noteId: string];

type Undoable = { addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): unknown };

/**
 * The undo steps one after the other, then `failed`; each step's own failure goes to its note task
 * ({@link catchUndoFailure}), which ends the undo there.
 * @returns the chain, for the Catch of the steps the undo is for
 */
export function undoThenFail(
  scope: Construct,
  steps: readonly [UndoStep, ...UndoStep[]],
  noteFunction: lambda.IFunction,
  failed: sfn.IChainable,
): sfn.Chain {
  for (const [step, noteId] of steps) catchUndoFailure(step, scope, noteId, noteFunction, failed);
  const [[first], ...rest] = steps;
  return rest.reduce((chain, [step]) => chain.next(step), sfn.Chain.start(first)).next(failed);
}

/**
 * A token for an engine call that is the same on every retry of the state `stateName` within one
 * execution and differs in any other: `<execution ARN>#<state name>`. The engine answers a repeated
 * call carrying it with what the first call made, so that a retry after a lost answer makes nothing twice.
 */
export function requestToken(stateName: string): string {
  return sfn.JsonPath.format(`{}#${stateName}`, sfn.JsonPath.executionId);
}
