import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import { type HostCommandResources, RunCommand } from '../run-command';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH, undoThenFail } from './failure-states';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface ExportWorkflowProps {
  /** The plan-export and report-export functions. */
  readonly functions: { readonly planExport: lambda.IFunction; readonly reportExport: lambda.IFunction };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
}

/** Request fields the export commands' parameters come from; the scratch mount point is Snapflow's own. */
const EXPORT_FIELDS = { Destination: 'targetPath' };

/**
 * The `export` workflow (V2P): copy a snapshot of a VDB to a physical directory on a host.
 *
 * Input `{ vdbId, snapshotId?, environmentId, targetPath }`; output
 * `{ vdbId, snapshotId, targetPath, filesTransferred, bytesTransferred }`.
 *
 * AcquireLease validates the input and takes the VDB's lease, so that the snapshot is not deleted (by
 * delete-vdb or retention) while it is copied; PlanExport chooses the snapshot (default: the VDB's
 * latest) and exports it read-only; MountSnapshot mounts it at `<scratchPath>/v2p-<execution name>` on
 * the host; Export runs rsync from there into the target path, which becomes an exact copy (a second
 * export to the same path transfers only what changed); ReportExport reads rsync's counts;
 * UnmountSnapshot unmounts and removes the scratch mount point; ReleaseLease gives the lease back. If
 * Export or ReportExport fails, the snapshot is unmounted and the execution fails with the original
 * error (and the unmount's, should that fail too). Every failure after AcquireLease releases the lease.
 */
export class ExportWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ExportWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands } = props;
    const command = (commandId: string, document: 'mount' | 'export' | 'unmount', planPath: string) =>
      new RunCommand(this, commandId, {
        hostCommands,
        document,
        planPath,
        fields: EXPORT_FIELDS,
      });

    const plan = lambdaStep(this, 'PlanExport', functions.planExport, {
      payload: sfn.TaskInput.fromObject({
        request: sfn.JsonPath.entirePayload,
        executionName: sfn.JsonPath.stringAt('$$.Execution.Name'),
      }),
      resultPath: '$.plan',
    });
    const mount = command('MountSnapshot', 'mount', '$.plan.mount');
    const copy = command('Export', 'export', '$.plan.export');
    const report = lambdaStep(this, 'ReportExport', functions.reportExport, {
      payload: sfn.TaskInput.fromObject({
        vdbId: sfn.JsonPath.stringAt('$.plan.vdbId'),
        snapshotId: sfn.JsonPath.stringAt('$.plan.snapshotId'),
        targetPath: sfn.JsonPath.stringAt('$.plan.targetPath'),
        exportOutput: sfn.JsonPath.stringAt('$.results.export.Output'),
      }),
      resultPath: '$.report',
    });
    const unmount = command('UnmountSnapshot', 'unmount', '$.plan.unmount');
    const output = new sfn.Pass(this, 'Output', { inputPath: '$.report' });

    const lease = new DatasetLease(this, { workflow: 'export', lease: props.lease });
    const { failed } = lease;
    const undoMount = undoThenFail(
      this,
      [[command('UnmountSnapshotAfterFailure', 'unmount', '$.plan.unmount'), 'UnmountSnapshot']],
      hostCommands.noteUndoFailure,
      failed,
    );
    plan.addCatch(failed, { resultPath: ERROR_PATH });
    // A failed mount mounted nothing, and whatever holds the mount point is not ours to unmount.
    mount.addCatch(failed, { resultPath: ERROR_PATH });
    copy.addCatch(undoMount, { resultPath: ERROR_PATH });
    report.addCatch(undoMount, { resultPath: ERROR_PATH });
    unmount.addCatch(failed, { resultPath: ERROR_PATH });

    const definition = lease
      .acquire()
      .next(plan)
      .next(mount)
      .next(copy)
      .next(report)
      .next(unmount)
      .next(lease.releaseThen(output))
      .next(new sfn.Succeed(this, 'Exported'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'export', definition }).stateMachine;
  }
}
