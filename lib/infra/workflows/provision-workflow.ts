import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import { type HostCommandResources, RunCommand } from '../run-command';
import { ERROR_PATH, failWithCaughtError, noteUndoFailure, UNDO_ERROR_PATH } from './failure-states';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface ProvisionWorkflowProps {
  /** The plan-provision, create-vdb, configure-vdb and delete-vdb functions. */
  readonly functions: {
    readonly planProvision: lambda.IFunction;
    readonly createVdb: lambda.IFunction;
    readonly configureVdb: lambda.IFunction;
    readonly deleteVdb: lambda.IFunction;
  };
  readonly hostCommands: HostCommandResources;
}

/** Request fields the target commands' parameters come from. */
const TARGET_FIELDS = { MountPath: 'virtualSource.mountLocation' };

/**
 * The `provision` workflow: clone a snapshot into a VDB and mount it on a target host.
 *
 * Input `{ name, snapshotId, environmentId, virtualSource: { mountLocation } }`; output
 * `{ vdbId, snapshotId, mountLocation }`, where snapshotId is the VDB's first snapshot.
 *
 * PlanProvision validates the request; CheckMountPoint makes sure the target directory is absent or
 * empty and unmounted before anything is created; CreateVdb clones and exports; MountTarget mounts the
 * clone; ConfigureVdb records the source config, marks the VDB RUNNING and snapshots it. If a step
 * after CreateVdb fails, the clone is unmounted (best effort, and only if the mount succeeded) and
 * deleted, and the execution fails with the original error's name: a failed provision leaves no clone
 * and no mount behind.
 */
export class ProvisionWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ProvisionWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands } = props;

    const plan = lambdaStep(this, 'PlanProvision', functions.planProvision, { resultPath: '$.plan' });
    const check = new RunCommand(this, 'CheckMountPoint', {
      hostCommands,
      document: 'check-mount-point',
      planPath: '$.plan.check',
      resultPath: '$.results.checkMountPoint',
      fields: TARGET_FIELDS,
    });
    const create = lambdaStep(this, 'CreateVdb', functions.createVdb, {
      payload: sfn.TaskInput.fromObject({
        name: sfn.JsonPath.stringAt('$.name'),
        snapshotId: sfn.JsonPath.stringAt('$.snapshotId'),
        environmentId: sfn.JsonPath.stringAt('$.environmentId'),
        virtualSource: sfn.JsonPath.objectAt('$.virtualSource'),
        target: sfn.JsonPath.objectAt('$.plan.target'),
      }),
      resultPath: '$.vdb',
    });
    const mount = new RunCommand(this, 'MountTarget', {
      hostCommands,
      document: 'mount',
      planPath: '$.vdb.mount',
      resultPath: '$.results.mountTarget',
      fields: TARGET_FIELDS,
    });
    const configure = lambdaStep(this, 'ConfigureVdb', functions.configureVdb, {
      payload: sfn.TaskInput.fromObject({
        vdbId: sfn.JsonPath.stringAt('$.vdb.vdbId'),
        executionId: sfn.JsonPath.executionId,
      }),
      resultPath: '$.configured',
    });
    const output = new sfn.Pass(this, 'Output', {
      parameters: {
        vdbId: sfn.JsonPath.stringAt('$.vdb.vdbId'),
        snapshotId: sfn.JsonPath.stringAt('$.configured.snapshotId'),
        mountLocation: sfn.JsonPath.stringAt('$.plan.target.mountPath'),
      },
    });

    const failed = failWithCaughtError(this);
    const undoCreate = lambdaStep(this, 'DeleteVdb', functions.deleteVdb, {
      payload: sfn.TaskInput.fromObject({ vdbId: sfn.JsonPath.stringAt('$.vdb.vdbId') }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    undoCreate.addCatch(noteUndoFailure(this, 'NoteDeleteFailure').next(failed), { resultPath: UNDO_ERROR_PATH });
    undoCreate.next(failed);
    const undoMount = new RunCommand(this, 'UnmountTarget', {
      hostCommands,
      document: 'unmount',
      planPath: '$.vdb.unmount',
      resultPath: '$.results.unmountTarget',
      fields: TARGET_FIELDS,
    });
    // Deleting the clone matters more than the unmount; its error stays in the history.
    undoMount.addCatch(undoCreate, { resultPath: '$.unmountError' });
    undoMount.next(undoCreate);
    // A failed mount mounted nothing, and whatever holds the mount point is not ours to unmount.
    mount.addCatch(undoCreate, { resultPath: ERROR_PATH });
    configure.addCatch(undoMount, { resultPath: ERROR_PATH });

    const definition = plan
      .next(check)
      .next(create)
      .next(mount)
      .next(configure)
      .next(output)
      .next(new sfn.Succeed(this, 'Provisioned'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'provision', definition }).stateMachine;
  }
}
