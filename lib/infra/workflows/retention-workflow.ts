import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ErrorNames } from '../../core/errors';
import { lambdaStep } from '../lambda-step';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH } from './failure-states';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface RetentionWorkflowProps {
  /** The plan-retention, delete-snapshot and report-retention functions. */
  readonly functions: {
    readonly planRetention: lambda.IFunction;
    readonly deleteSnapshot: lambda.IFunction;
    readonly reportRetention: lambda.IFunction;
  };
  readonly lease: LeaseResources;
}

/**
 * The `retention` workflow: apply a dSource's or VDB's snapshot policy to its snapshots
 * (lib/core/retention.ts).
 *
 * Input `{ datasetId, dryRun, trigger }`; output `{ datasetId, dryRun, kept: [{ id, reasons }],
 * deleted: [{ id, reason }], skipped: [{ id, error }], report }`, where a dry run lists as `deleted`
 * what a run would delete, and `report` is the decision as a table.
 *
 * AcquireLease validates the input and takes the dataset's lease, so that the decision and the deletes
 * see no sync or refresh half done (a dry run takes it too, and so decides exactly as a run would);
 * PlanRetention counts each snapshot's clones and decides what to keep; DeleteSnapshots deletes the
 * decision's snapshots one at a time (none in a dry run); ReportRetention sums up; ReleaseLease gives
 * the lease back. A snapshot that a VDB or timeflow was cloned from since the decision (a provision
 * holds no lease on its parent) is refused by the engine with DependentsExistError: it is reported as
 * skipped, and the run goes on. Any other failure releases the lease and fails the execution with its
 * error; the snapshots deleted before it stay deleted, which is what the policy wanted.
 */
export class RetentionWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RetentionWorkflowProps) {
    super(scope, id);
    const { functions } = props;
    const lease = new DatasetLease(this, { workflow: 'retention', lease: props.lease });

    const plan = lambdaStep(this, 'PlanRetention', functions.planRetention, { resultPath: '$.plan' });
    const deleteOne = lambdaStep(this, 'DeleteSnapshot', functions.deleteSnapshot);
    deleteOne.addCatch(new sfn.Pass(this, 'NotDeleted'), {
      errors: [ErrorNames.DependentsExist],
      resultPath: ERROR_PATH,
    });
    // One at a time: each delete takes the engine's lock, and a long list should not crowd out other runs.
    const deleteAll = new sfn.Map(this, 'DeleteSnapshots', {
      itemsPath: '$.plan.deleteIds',
      itemSelector: { snapshotId: sfn.JsonPath.stringAt('$$.Map.Item.Value') },
      maxConcurrency: 1,
      resultPath: '$.deletions',
    }).itemProcessor(deleteOne);
    const report = lambdaStep(this, 'ReportRetention', functions.reportRetention, {
      payload: sfn.TaskInput.fromObject({
        plan: sfn.JsonPath.objectAt('$.plan'),
        deletions: sfn.JsonPath.objectAt('$.deletions'),
      }),
      resultPath: '$.report',
    });
    for (const step of [plan, deleteAll, report]) step.addCatch(lease.failed, { resultPath: ERROR_PATH });

    const definition = lease
      .acquire()
      .next(plan)
      .next(deleteAll)
      .next(report)
      .next(lease.releaseThen(new sfn.Pass(this, 'Output', { inputPath: '$.report' })))
      .next(new sfn.Succeed(this, 'Applied'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'retention', definition }).stateMachine;
  }
}
