import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import { type HostCommandResources, RunCommand } from '../run-command';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface DeleteDSourceWorkflowProps {
  /** The plan-delete-dsource and delete-dsource functions. */
  readonly functions: { readonly planDeleteDSource: lambda.IFunction; readonly deleteDSource: lambda.IFunction };
  readonly hostCommands: HostCommandResources;
}

/**
 * The `delete-dsource` workflow: destroy a dSource with its timeflow and snapshots (SDK §4.4).
 *
 * Input `{ dsourceId }`; output `{ dsourceId }`.
 *
 * PlanDeleteDSource refuses, before touching anything, a dSource that VDBs depend on (naming them),
 * then runs `linked.stopStaging`; UnmountStaging makes sure nothing stays mounted at the staging mount
 * location (normally nothing is: syncs unmount when they end); DeleteDSource destroys it in the engine.
 * A failure fails the execution with the original error and leaves the dSource as it was.
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
      resultPath: '$.results.unmountStaging',
      fields: { MountPath: 'linkedSource.mountLocation' },
    });
    const destroy = lambdaStep(this, 'DeleteDSource', functions.deleteDSource, {
      payload: sfn.TaskInput.fromObject({ dsourceId: sfn.JsonPath.stringAt('$.plan.dsourceId') }),
      resultPath: '$.deleted',
    });

    const definition = plan
      .next(unmount)
      .next(destroy)
      .next(new sfn.Pass(this, 'Output', { inputPath: '$.deleted' }))
      .next(new sfn.Succeed(this, 'Deleted'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', {
      workflow: 'delete-dsource',
      definition,
    }).stateMachine;
  }
}
