import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ErrorNames } from '../../core/errors';
import { lambdaStep } from '../lambda-step';
import { type HostCommandResources, RunCommand, STAGING_FIELDS } from '../run-command';
import { DatasetLease, type LeaseResources, queueDuration, runBound } from './dataset-lease';
import { ERROR_PATH, requestToken, undoThenFail } from './failure-states';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface SyncWorkflowProps {
  /** The plan-sync, record-snapshot and delete-snapshot functions. */
  readonly functions: {
    readonly planSync: lambda.IFunction;
    readonly recordSnapshot: lambda.IFunction;
    readonly deleteSnapshot: lambda.IFunction;
  };
  readonly hostCommands: HostCommandResources;
  /** The lease functions; a sync queues for the dSource as long as a sync may hold it. */
  readonly lease: LeaseResources;
}

/**
 * The `sync` workflow: copy from the source into a dSource's storage and snapshot it.
 *
 * Input `{ dsourceId, snapshotParameters: { resync }, trigger: { kind, id? } }`; output
 * `{ dsourceId, snapshotId }`.
 *
 * AcquireLease validates the input and takes the dSource's lease, waiting while another run holds it,
 * so that syncs triggered together run one after the other; PlanSync exports the dSource and plans the
 * host commands; MountStaging mounts the storage on the staging host; Copy runs rsync there;
 * RecordSnapshot snapshots the storage with provenance; UnmountStaging unmounts it; ReleaseLease gives
 * the lease back. A failed sync records no snapshot: if Copy or RecordSnapshot fails, the storage is
 * unmounted and the execution fails with the original error (and the unmount's, should that fail too);
 * if UnmountStaging fails, the storage stays mounted, DeleteSnapshot deletes the snapshot just
 * recorded, and the execution fails with the unmount's error. Every failure after AcquireLease
 * releases the lease once the undo is done.
 */
export class SyncWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /**
   * The longest a sync can run once it holds the lease: every host command at its poll bound, plus
   * time for the Lambda steps. It holds the lease no longer.
   */
  readonly runDuration: Duration;
  /** The longest a sync execution can take: queued for the lease as long as another sync may hold it, then run. */
  readonly maxDuration: Duration;

  constructor(scope: Construct, id: string, props: SyncWorkflowProps) {
    super(scope, id);
    const { hostCommands } = props;

    const plan = lambdaStep(this, 'PlanSync', props.functions.planSync, { resultPath: '$.plan' });
    const mount = new RunCommand(this, 'MountStaging', {
      hostCommands,
      document: 'mount',
      planPath: '$.plan.mount',
      fields: STAGING_FIELDS,
    });
    const copy = new RunCommand(this, 'Copy', {
      hostCommands,
      document: 'copy',
      planPath: '$.plan.copy',
      fields: STAGING_FIELDS,
      // rsync brings the dataset to the source's state whatever an earlier attempt left in it.
      retry: { errors: [ErrorNames.SourceUnreachable], interval: Duration.seconds(30), maxAttempts: 2, backoffRate: 2 },
    });
    const record = lambdaStep(this, 'RecordSnapshot', props.functions.recordSnapshot, {
      payload: sfn.TaskInput.fromObject({
        dsourceId: sfn.JsonPath.stringAt('$.dsourceId'),
        trigger: sfn.JsonPath.objectAt('$.trigger'),
        snapshotParameters: sfn.JsonPath.objectAt('$.snapshotParameters'),
        startedAt: sfn.JsonPath.stringAt('$.plan.startedAt'),
        copyOutput: sfn.JsonPath.stringAt('$.results.copy.Output'),
        requestToken: requestToken('RecordSnapshot'),
      }),
      resultPath: '$.snapshot',
    });
    const unmount = new RunCommand(this, 'UnmountStaging', {
      hostCommands,
      document: 'unmount',
      planPath: '$.plan.unmount',
      fields: STAGING_FIELDS,
    });
    const output = new sfn.Pass(this, 'Output', {
      parameters: {
        dsourceId: sfn.JsonPath.stringAt('$.dsourceId'),
        snapshotId: sfn.JsonPath.stringAt('$.snapshot.snapshotId'),
      },
    });

    const lease = new DatasetLease(this, { workflow: 'sync', lease: props.lease });
    const { failed } = lease;
    const unmountAfterFailure = new RunCommand(this, 'UnmountStagingAfterFailure', {
      hostCommands,
      document: 'unmount',
      planPath: '$.plan.unmount',
      fields: STAGING_FIELDS,
    });
    const undoMount = undoThenFail(this, [[unmountAfterFailure, 'Unmount']], hostCommands.noteUndoFailure, failed);
    const deleteSnapshot = lambdaStep(this, 'DeleteSnapshot', props.functions.deleteSnapshot, {
      payload: sfn.TaskInput.fromObject({ snapshotId: sfn.JsonPath.stringAt('$.snapshot.snapshotId') }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    const undoSnapshot = undoThenFail(this, [[deleteSnapshot, 'DeleteSnapshot']], hostCommands.noteUndoFailure, failed);
    plan.addCatch(failed, { resultPath: ERROR_PATH });
    // A failed mount mounted nothing, and whatever holds the mount point is not ours to unmount.
    mount.addCatch(failed, { resultPath: ERROR_PATH });
    copy.addCatch(undoMount, { resultPath: ERROR_PATH });
    record.addCatch(undoMount, { resultPath: ERROR_PATH });
    // The storage stays mounted (the unmount script already tried five times); the snapshot goes.
    unmount.addCatch(undoSnapshot, { resultPath: ERROR_PATH });

    const definition = lease
      .acquire()
      .next(plan)
      .next(mount)
      .next(copy)
      .next(record)
      .next(unmount)
      .next(lease.releaseThen(output))
      .next(new sfn.Succeed(this, 'Synced'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'sync', definition }).stateMachine;
    this.runDuration = runBound(this);
    this.maxDuration = queueDuration(props.lease.queueWait ?? this.runDuration).plus(this.runDuration);
  }
}
