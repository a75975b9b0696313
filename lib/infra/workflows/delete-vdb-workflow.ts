import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import type { HostCommandResources } from '../run-command';
import { ERROR_PATH, failWithCaughtError } from './failure-states';
import { planVdbLifecycleStep, remountAfterFailure, targetCommand } from './vdb-steps';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface DeleteVdbWorkflowProps {
  /** The plan-vdb-lifecycle, delete-vdb and update-vdb-state functions. */
  readonly functions: {
    readonly planVdbLifecycle: lambda.IFunction;
    readonly deleteVdb: lambda.IFunction;
    readonly updateVdbState: lambda.IFunction;
  };
  readonly hostCommands: HostCommandResources;
}

/**
 * The `delete-vdb` workflow: tear a VDB down and destroy it with its timeflows and snapshots (SDK §4.15).
 *
 * Input `{ vdbId }`; output `{ vdbId }`.
 *
 * PlanDeleteVdb refuses, before touching anything, a VDB that others depend on (naming them), then
 * runs `virtual.unconfigure` and `virtual.cleanup`; UnmountTarget unmounts; DeleteVdb destroys it in
 * the engine. If the unmount or the engine delete fails, a VDB that was mounted is mounted again and
 * reconfigured before the execution fails with the original error.
 */
export class DeleteVdbWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: DeleteVdbWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands } = props;

    const plan = planVdbLifecycleStep(this, 'PlanDeleteVdb', functions.planVdbLifecycle, 'delete-vdb');
    const unmount = targetCommand(this, 'UnmountTarget', hostCommands, 'unmount', '$.plan.unmount');
    const destroy = lambdaStep(this, 'DeleteVdb', functions.deleteVdb, {
      payload: sfn.TaskInput.fromObject({ vdbId: sfn.JsonPath.stringAt('$.plan.vdbId') }),
      resultPath: '$.deleted',
    });

    const restore = remountAfterFailure(this, {
      hostCommands,
      updateVdbState: functions.updateVdbState,
      operation: 'reconfigure',
      failed: failWithCaughtError(this),
    });
    unmount.addCatch(restore, { resultPath: ERROR_PATH });
    destroy.addCatch(restore, { resultPath: ERROR_PATH });

    const definition = plan
      .next(unmount)
      .next(destroy)
      .next(new sfn.Pass(this, 'Output', { inputPath: '$.deleted' }))
      .next(new sfn.Succeed(this, 'Deleted'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'delete-vdb', definition }).stateMachine;
  }
}
