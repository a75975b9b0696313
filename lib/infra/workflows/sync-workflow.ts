import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import { type HostCommandResources, RunCommand } from '../run-command';
import { ERROR_PATH, failWithCaughtError, noteUndoFailure, UNDO_ERROR_PATH } from './failure-states';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface SyncWorkflowProps {
  /** The plan-sync and record-snapshot functions. */
  readonly functions: { readonly planSync: lambda.IFunction; readonly recordSnapshot: lambda.IFunction };
  readonly hostCommands: HostCommandResources;
}

/** Time for PlanSync and RecordSnapshot, retries included. */
const LAMBDA_STEPS_ALLOWANCE = Duration.minutes(5);

/** Request fields the staging commands' parameters come from. */
const STAGING_FIELDS = { MountPath: 'linkedSource.mountLocation', Destination: 'linkedSource.mountLocation' };

/**
 * The `sync` workflow: copy from the source into a dSource's storage and snapshot it.
 *
 * Input `{ dsourceId, snapshotParameters: { resync }, trigger: { kind, id? } }`; output
 * `{ dsourceId, snapshotId }`.
 *
 * PlanSync validates the input, exports the dSource and plans the host commands; MountStaging mounts
 * the storage on the staging host; Copy runs rsync there; RecordSnapshot snapshots the storage with
 * provenance; UnmountStaging unmounts it. If Copy or RecordSnapshot fails, the storage is unmounted
 * (best effort) and the execution fails with the original error's name, having recorded no snapshot.
 */
export class SyncWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** The longest a sync can run: every host command at its poll bound, plus time for the Lambda steps. */
  readonly maxDuration: Duration;

  constructor(scope: Construct, id: string, props: SyncWorkflowProps) {
    super(scope, id);
    const { hostCommands } = props;

    const plan = lambdaStep(this, 'PlanSync', props.functions.planSync, { resultPath: '$.plan' });
    const mount = new RunCommand(this, 'MountStaging', {
      hostCommands,
      document: 'mount',
      planPath: '$.plan.mount',
      resultPath: '$.results.mountStaging',
      fields: STAGING_FIELDS,
    });
    const copy = new RunCommand(this, 'Copy', {
      hostCommands,
      document: 'copy',
      planPath: '$.plan.copy',
      resultPath: '$.results.copy',
      fields: STAGING_FIELDS,
    });
    const record = lambdaStep(this, 'RecordSnapshot', props.functions.recordSnapshot, {
      payload: sfn.TaskInput.fromObject({
        dsourceId: sfn.JsonPath.stringAt('$.dsourceId'),
        trigger: sfn.JsonPath.objectAt('$.trigger'),
        snapshotParameters: sfn.JsonPath.objectAt('$.snapshotParameters'),
        startedAt: sfn.JsonPath.stringAt('$.plan.startedAt'),
        copyOutput: sfn.JsonPath.stringAt('$.results.copy.Output'),
      }),
      resultPath: '$.snapshot',
    });
    const unmount = new RunCommand(this, 'UnmountStaging', {
      hostCommands,
      document: 'unmount',
      planPath: '$.plan.unmount',
      resultPath: '$.results.unmountStaging',
      fields: STAGING_FIELDS,
    });
    const output = new sfn.Pass(this, 'Output', {
      parameters: {
        dsourceId: sfn.JsonPath.stringAt('$.dsourceId'),
        snapshotId: sfn.JsonPath.stringAt('$.snapshot.snapshotId'),
      },
    });

    const failed = failWithCaughtError(this);
    const undoMount = new RunCommand(this, 'UnmountStagingAfterFailure', {
      hostCommands,
      document: 'unmount',
      planPath: '$.plan.unmount',
      resultPath: '$.results.unmountStagingAfterFailure',
      fields: STAGING_FIELDS,
    });
    undoMount.addCatch(noteUndoFailure(this, 'NoteUnmountFailure').next(failed), { resultPath: UNDO_ERROR_PATH });
    undoMount.next(failed);
    // A failed mount mounted nothing, and whatever holds the mount point is not ours to unmount.
    mount.addCatch(failed, { resultPath: ERROR_PATH });
    copy.addCatch(undoMount, { resultPath: ERROR_PATH });
    record.addCatch(undoMount, { resultPath: ERROR_PATH });
    unmount.addCatch(failed, { resultPath: ERROR_PATH });

    const definition = plan
      .next(mount)
      .next(copy)
      .next(record)
      .next(unmount)
      .next(output)
      .next(new sfn.Succeed(this, 'Synced'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'sync', definition }).stateMachine;
    const hostSeconds = [mount, copy, unmount, undoMount].reduce(
      (sum, command) => sum + command.maxDuration.toSeconds(),
      0,
    );
    this.maxDuration = Duration.seconds(hostSeconds + LAMBDA_STEPS_ALLOWANCE.toSeconds());
  }
}
