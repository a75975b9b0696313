import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import { type HostCommandResources, RunCommand, STAGING_FIELDS } from '../run-command';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH } from './failure-states';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface DeleteDSourceWorkflowProps {
  /** The plan-delete-dsource and delete-dsource functions. */
  readonly functions: { readonly planDeleteDSource: lambda.IFunction; readonly deleteDSource: lambda.IFunction };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
}

/**
 * The `delete-dsource` workflow: destroy a dSource with its timeflow and snapshots (SDK §4.4).
 *
 * Input `{ dsourceId }`; output `{ dsourceId }`.
 *
 * AcquireLease validates the input and takes the dSource's lease, waiting for a sync that is running;
 * PlanDeleteDSource refuses, before touching anything, a dSource that VDBs depend on (naming them),
 * then runs `linked.stopStaging`; UnmountStaging makes sure the dSource's storage stays mounted nowhere
 * at the staging mount location (normally it is not: syncs unmount when they end), leaving another
 * filesystem mounted there alone; DeleteDSource destroys it in the engine (its lease with it);
 * ReleaseLease then has nothing left to give back. A failure releases the lease and fails the
 * execution with the original error, leaving the dSource as it was: nothing is deleted unless the
 * unmount succeeded.
 */
export class DeleteDSourceWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: DeleteDSourceWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands } = props;

    const plan = lambdaStep(this, 'PlanDeleteDSource', functions.planDeleteDSource, { resultPath: '$.plan' });
    const unmount = new RunCommand(this, 'UnmountStaging', {
      hostCommands,
      document: 'unmount',
      planPath: '$.plan.unmount',
      fields: { MountPath: STAGING_FIELDS.MountPath },
    });
    const destroy = lambdaStep(this, 'DeleteDSource', functions.deleteDSource, {
      payload: sfn.TaskInput.fromObject({ dsourceId: sfn.JsonPath.stringAt('$.plan.dsourceId') }),
      resultPath: '$.deleted',
    });

    const lease = new DatasetLease(this, { workflow: 'delete-dsource', lease: props.lease });
    for (const step of [plan, unmount, destroy]) step.addCatch(lease.failed, { resultPath: ERROR_PATH });

    const definition = lease
      .acquire()
      .next(plan)
      .next(unmount)
      .next(destroy)
      .next(lease.releaseThen(new sfn.Pass(this, 'Output', { inputPath: '$.deleted' })))
      .next(new sfn.Succeed(this, 'Deleted'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', {
      workflow: 'delete-dsource',
      definition,
    }).stateMachine;
  }
}
