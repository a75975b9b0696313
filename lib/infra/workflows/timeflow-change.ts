import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import type { HostCommandResources } from '../run-command';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH, undoThenFail } from './failure-states';
import { targetCommand, updateVdbStateStep } from './vdb-steps';

export interface TimeflowChangeProps {
  readonly kind: 'refresh' | 'rollback';
  /** The first task's name, e.g. `PlanRefresh`, and the function it runs. */
  readonly plan: { readonly id: string; readonly fn: lambda.IFunction };
  /** The create-timeflow, restore-timeflow and update-vdb-state functions. */
  readonly functions: {
    readonly createTimeflow: lambda.IFunction;
    readonly restoreTimeflow: lambda.IFunction;
    readonly updateVdbState: lambda.IFunction;
  };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
  /** The plugin operation once the new timeflow is mounted: refresh configures, rollback reconfigures. */
  readonly operation: 'configure' | 'reconfigure';
  /** The name of the final Succeed state. */
  readonly succeeded: string;
}

/**
 * The states of refresh and rollback, which differ only in how the snapshot is chosen, the timeflow's
 * kind and the plugin operation at the end (SDK §4.9–4.10):
 *
 * AcquireLease (validate, take the VDB's lease, waiting while another run holds it) → Plan (choose the
 * snapshot, `virtual.unconfigure`) → UnmountTarget → CreateTimeflow (clone the snapshot into a new
 * current timeflow, export it) → MountTarget → ConfigureVdb or ReconfigureVdb (record RUNNING) →
 * ReleaseLease → Output `{ vdbId, timeflowId, snapshotId }`.
 *
 * From the unmount on, a failure restores the previous state before the execution fails with the
 * original error: once the new timeflow exists it is unmounted (only it: what made its mount fail
 * stays), RestoreTimeflow switches the VDB back to its previous timeflow and deletes the new one, the
 * previous timeflow is mounted again and reconfigured. The VDB then serves the data it served before.
 * Each undo step runs only if the one before it succeeded: the new timeflow is never deleted while it
 * may be mounted, and a failed undo step's error is added to the cause. Every failure after
 * AcquireLease ends by releasing the lease.
 */
export function timeflowChangeDefinition(scope: Construct, props: TimeflowChangeProps): sfn.IChainable {
  const { functions, hostCommands } = props;

  const plan = lambdaStep(scope, props.plan.id, props.plan.fn, { resultPath: '$.plan' });
  const unmount = targetCommand(scope, 'UnmountTarget', hostCommands, 'unmount', '$.plan.unmount');
  const create = lambdaStep(scope, 'CreateTimeflow', functions.createTimeflow, {
    payload: sfn.TaskInput.fromObject({
      vdbId: sfn.JsonPath.stringAt('$.plan.vdbId'),
      snapshotId: sfn.JsonPath.stringAt('$.plan.snapshotId'),
      kind: props.kind,
      previousTimeflowId: sfn.JsonPath.stringAt('$.plan.previousTimeflowId'),
      target: sfn.JsonPath.objectAt('$.plan.target'),
    }),
    resultPath: '$.timeflow',
  });
  const mount = targetCommand(scope, 'MountTarget', hostCommands, 'mount', '$.timeflow.mount');
  const configure = updateVdbStateStep(
    scope,
    props.operation === 'configure' ? 'ConfigureVdb' : 'ReconfigureVdb',
    functions.updateVdbState,
    { operation: props.operation, status: 'RUNNING' },
  );
  const output = new sfn.Pass(scope, 'Output', {
    parameters: {
      vdbId: sfn.JsonPath.stringAt('$.plan.vdbId'),
      timeflowId: sfn.JsonPath.stringAt('$.timeflow.timeflowId'),
      snapshotId: sfn.JsonPath.stringAt('$.plan.snapshotId'),
    },
  });

  const lease = new DatasetLease(scope, { workflow: props.kind, lease: props.lease });
  const { failed } = lease;
  const unmountNew = targetCommand(scope, 'UnmountNewTimeflow', hostCommands, 'unmount', '$.timeflow.unmount');
  const restore = lambdaStep(scope, 'RestoreTimeflow', functions.restoreTimeflow, {
    payload: sfn.TaskInput.fromObject({
      vdbId: sfn.JsonPath.stringAt('$.plan.vdbId'),
      previousTimeflowId: sfn.JsonPath.stringAt('$.plan.previousTimeflowId'),
      target: sfn.JsonPath.objectAt('$.plan.target'),
    }),
    resultPath: '$.restore',
  });
  // Mounting what is still mounted succeeds, so this also covers an unmount that failed.
  const remount = targetCommand(scope, 'RemountPrevious', hostCommands, 'mount', '$.restore.mount');
  const reconfigure = updateVdbStateStep(scope, 'ReconfigurePrevious', functions.updateVdbState, {
    operation: 'reconfigure',
    status: 'RUNNING',
  });
  const undoNew = undoThenFail(
    scope,
    [
      [unmountNew, 'UnmountNewTimeflow'],
      [restore, 'RestoreTimeflow'],
      [remount, 'RemountPrevious'],
      [reconfigure, 'ReconfigurePrevious'],
    ],
    hostCommands.noteUndoFailure,
    failed,
  );

  // Nothing has changed before the unmount.
  plan.addCatch(failed, { resultPath: ERROR_PATH });
  unmount.addCatch(restore, { resultPath: ERROR_PATH });
  create.addCatch(restore, { resultPath: ERROR_PATH });
  // After a failed mount too: a timed-out or cancelled mount may have left the new timeflow mounted.
  mount.addCatch(undoNew, { resultPath: ERROR_PATH });
  configure.addCatch(undoNew, { resultPath: ERROR_PATH });

  return lease
    .acquire()
    .next(plan)
    .next(unmount)
    .next(create)
    .next(mount)
    .next(configure)
    .next(lease.releaseThen(output))
    .next(new sfn.Succeed(scope, props.succeeded));
}
