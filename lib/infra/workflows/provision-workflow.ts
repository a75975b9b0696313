import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ErrorNames } from '../../core/errors';
import { lambdaStep } from '../lambda-step';
import type { HostCommandResources } from '../run-command';
import { ERROR_PATH, failWithCaughtError, requestToken, undoThenFail } from './failure-states';
import { targetCommand, updateVdbStateStep } from './vdb-steps';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface ProvisionWorkflowProps {
  /** The plan-provision, create-vdb, update-vdb-state, snapshot-vdb and delete-vdb functions. */
  readonly functions: {
    readonly planProvision: lambda.IFunction;
    readonly createVdb: lambda.IFunction;
    readonly updateVdbState: lambda.IFunction;
    readonly snapshotVdb: lambda.IFunction;
    readonly deleteVdb: lambda.IFunction;
  };
  readonly hostCommands: HostCommandResources;
}

/**
 * The `provision` workflow: clone a snapshot into a VDB and mount it on a target host (SDK §4.5–4.6).
 *
 * Input `{ vdbId?, name, snapshotId? | sourceDataId?, environmentId, virtualSource: { mountLocation }, policy? }`;
 * output `{ vdbId, snapshotId, mountLocation, timeflowId }`, where snapshotId is the VDB's first
 * snapshot and timeflowId its first timeflow.
 *
 * PlanProvision validates the request (the policy too), chooses the snapshot (the one named, or the
 * latest of the dSource or VDB named as sourceDataId) and the VDB's id when none is given; CheckMountPoint makes sure the target directory
 * is absent or empty and unmounted before anything is created; CreateVdb clones, with the policy, and
 * exports; MountTarget mounts the clone; ConfigureVdb runs `virtual.configure` and records the source
 * config and RUNNING; SnapshotVdb takes the VDB's first snapshot. If a step after CreateVdb fails, the clone is unmounted (only the
 * clone: what made a mount fail stays), recorded STOPPED and deleted, and the execution fails with the
 * original error: a failed provision leaves no clone and no mount behind. Should the unmount fail, the
 * clone is not deleted under its mount: the execution fails with the original error and the unmount's.
 * If CreateVdb itself fails, the engine may have made the clone all the same (its handler timed out, or
 * the answer was lost), so the VDB with the planned id is deleted, unless the engine refused the
 * request outright (ValidationError, NotFoundError, ConflictError), when that id is not this run's.
 */
export class ProvisionWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ProvisionWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands } = props;

    const plan = lambdaStep(this, 'PlanProvision', functions.planProvision, { resultPath: '$.plan' });
    const check = targetCommand(this, 'CheckMountPoint', hostCommands, 'check-mount-point', '$.plan.check');
    const create = lambdaStep(this, 'CreateVdb', functions.createVdb, { inputPath: '$.plan', resultPath: '$.vdb' });
    const mount = targetCommand(this, 'MountTarget', hostCommands, 'mount', '$.vdb.mount');
    const configure = updateVdbStateStep(
      this,
      'ConfigureVdb',
      functions.updateVdbState,
      { operation: 'configure', status: 'RUNNING' },
      { vdbIdPath: '$.vdb.vdbId' },
    );
    const snapshot = lambdaStep(this, 'SnapshotVdb', functions.snapshotVdb, {
      payload: sfn.TaskInput.fromObject({
        request: {
          vdbId: sfn.JsonPath.stringAt('$.vdb.vdbId'),
          trigger: { kind: 'workflow', id: sfn.JsonPath.executionId },
        },
        requestToken: requestToken('SnapshotVdb'),
      }),
      resultPath: '$.snapshot',
    });
    const output = new sfn.Pass(this, 'Output', {
      parameters: {
        vdbId: sfn.JsonPath.stringAt('$.vdb.vdbId'),
        snapshotId: sfn.JsonPath.stringAt('$.snapshot.snapshotId'),
        mountLocation: sfn.JsonPath.stringAt('$.plan.target.mountPath'),
        timeflowId: sfn.JsonPath.stringAt('$.vdb.timeflowId'),
      },
    });

    const failed = failWithCaughtError(this);
    // The clone is deleted only once nothing of it is mounted: the unmount succeeded, and the engine,
    // which refuses to delete a RUNNING VDB, is told it is STOPPED.
    const unmount = targetCommand(this, 'UnmountTarget', hostCommands, 'unmount', '$.vdb.unmount');
    const markStopped = updateVdbStateStep(
      this,
      'MarkStopped',
      functions.updateVdbState,
      { status: 'STOPPED' },
      {
        vdbIdPath: '$.vdb.vdbId',
      },
    );
    const destroy = lambdaStep(this, 'DeleteVdb', functions.deleteVdb, {
      payload: sfn.TaskInput.fromObject({ vdbId: sfn.JsonPath.stringAt('$.plan.vdb.id') }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    const undoMount = undoThenFail(
      this,
      [
        [unmount, 'UnmountTarget'],
        [markStopped, 'MarkStopped'],
        [destroy, 'Delete'],
      ],
      hostCommands.noteUndoFailure,
      failed,
    );
    // A refused create made nothing; a VDB with the id, if any, belongs to a concurrent provision
    // that chose the same one.
    create.addCatch(failed, {
      errors: [ErrorNames.Validation, ErrorNames.NotFound, ErrorNames.Conflict],
      resultPath: ERROR_PATH,
    });
    // Nothing is mounted yet; a VDB the engine never made counts as deleted.
    create.addCatch(destroy, { resultPath: ERROR_PATH });
    // The unmount runs after a failed mount too: it takes away only the clone, should a timed-out or
    // cancelled mount have left it mounted, and nothing that made the mount fail.
    mount.addCatch(undoMount, { resultPath: ERROR_PATH });
    configure.addCatch(undoMount, { resultPath: ERROR_PATH });
    snapshot.addCatch(undoMount, { resultPath: ERROR_PATH });

    const definition = plan
      .next(check)
      .next(create)
      .next(mount)
      .next(configure)
      .next(snapshot)
      .next(output)
      .next(new sfn.Succeed(this, 'Provisioned'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'provision', definition }).stateMachine;
  }
}
