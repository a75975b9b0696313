import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { DocumentKind } from '../../core/host-plan';
import type { VdbLifecycleWorkflow } from '../../core/steps/plan-vdb-lifecycle';
import type { UpdateVdbStateInput } from '../../core/steps/update-vdb-state';
import { lambdaStep } from '../lambda-step';
import { type HostCommandResources, RunCommand } from '../run-command';
import { undoThenFail } from './failure-states';

/** Request fields the VDB target commands' parameters come from, so that errors name the VDB's setting. */
const TARGET_FIELDS = { MountPath: 'virtualSource.mountLocation' };

/**
 * A host command on a VDB's target host, its result kept at `$.results.<id>` (see {@link RunCommand}).
 *
 * @param planPath JSONPath to the host plan in the state
 */
export function targetCommand(
  scope: Construct,
  id: string,
  hostCommands: HostCommandResources,
  document: DocumentKind,
  planPath: string,
): RunCommand {
  return new RunCommand(scope, id, {
    hostCommands,
    document,
    planPath,
    fields: TARGET_FIELDS,
  });
}

export interface UpdateVdbStateStepOptions {
  /** Where the answer `{ vdbId, status, enabled }` goes. @default discarded */
  readonly resultPath?: string;
  /** JSONPath to the VDB's id in the state. @default `$.plan.vdbId` */
  readonly vdbIdPath?: string;
}

/**
 * A task of the update-vdb-state function: the plugin operation after a mount, if any, and the VDB's
 * new status.
 */
export function updateVdbStateStep(
  scope: Construct,
  id: string,
  updateVdbState: lambda.IFunction,
  state: Omit<UpdateVdbStateInput, 'vdbId'>,
  options: UpdateVdbStateStepOptions = {},
): sfn.TaskStateBase {
  return lambdaStep(scope, id, updateVdbState, {
    payload: sfn.TaskInput.fromObject({
      vdbId: sfn.JsonPath.stringAt(options.vdbIdPath ?? '$.plan.vdbId'),
      ...state,
    }),
    resultPath: options.resultPath ?? sfn.JsonPath.DISCARD,
  });
}

export interface RestoreMountProps {
  readonly hostCommands: HostCommandResources;
  readonly updateVdbState: lambda.IFunction;
  /** The plugin operation that brings the VDB up again once it is mounted. */
  readonly operation: 'reconfigure' | 'start';
  /** Where the workflow goes to fail with the original error. */
  readonly failed: sfn.IChainable;
}

/**
 * After a failure in a workflow that unmounts the VDB (stop, disable, delete): if the VDB was mounted
 * when the workflow began (`$.plan.mounted`), mounts it again (which also succeeds when the unmount
 * never happened), brings it up and records it RUNNING, then fails; otherwise fails at once.
 */
export function remountAfterFailure(scope: Construct, props: RestoreMountProps): sfn.IChainable {
  const remount = targetCommand(scope, 'RemountTarget', props.hostCommands, 'mount', '$.plan.mount');
  const restartId = props.operation === 'start' ? 'RestartVdb' : 'ReconfigureVdb';
  const restart = updateVdbStateStep(scope, restartId, props.updateVdbState, {
    operation: props.operation,
    status: 'RUNNING',
  });
  const undo = undoThenFail(
    scope,
    [
      [remount, 'RemountTarget'],
      [restart, restartId],
    ],
    props.hostCommands.noteUndoFailure,
    props.failed,
  );
  return new sfn.Choice(scope, 'WasMounted')
    .when(sfn.Condition.booleanEquals('$.plan.mounted', true), undo)
    .otherwise(props.failed);
}

/**
 * After a failure in a workflow that mounts the VDB (start, enable): if the VDB was not mounted when the
 * workflow began, unmounts it again, then fails; a VDB that was mounted stays so.
 */
export function unmountAfterFailure(
  scope: Construct,
  hostCommands: HostCommandResources,
  failed: sfn.IChainable,
): sfn.IChainable {
  const unmount = targetCommand(scope, 'UnmountAfterFailure', hostCommands, 'unmount', '$.plan.unmount');
  const undo = undoThenFail(scope, [[unmount, 'UnmountAfterFailure']], hostCommands.noteUndoFailure, failed);
  return new sfn.Choice(scope, 'WasMounted')
    .when(sfn.Condition.booleanEquals('$.plan.mounted', true), failed)
    .otherwise(undo);
}

/**
 * The first task of a VDB lifecycle workflow: the plan-vdb-lifecycle function, told which workflow
 * it plans for, with the execution's input as the request. Its plan goes to `$.plan`.
 */
export function planVdbLifecycleStep(
  scope: Construct,
  id: string,
  planVdbLifecycle: lambda.IFunction,
  workflow: VdbLifecycleWorkflow,
): sfn.TaskStateBase {
  return lambdaStep(scope, id, planVdbLifecycle, {
    payload: sfn.TaskInput.fromObject({ workflow, request: sfn.JsonPath.entirePayload }),
    resultPath: '$.plan',
  });
}
