import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import type { HostCommandResources } from '../run-command';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH } from './failure-states';
import { planVdbLifecycleStep, remountAfterFailure, targetCommand, updateVdbStateStep } from './vdb-steps';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface DeleteVdbWorkflowProps {
  /** The plan-vdb-lifecycle, delete-vdb and update-vdb-state functions. */
  readonly functions: {
    readonly planVdbLifecycle: lambda.IFunction;
    readonly deleteVdb: lambda.IFunction;
    readonly updateVdbState: lambda.IFunction;
  };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
}

/**
 * The `delete-vdb` workflow: tear a VDB down and destroy it with its timeflows and snapshots (SDK §4.15).
 *
 * Input `{ vdbId }`; output `{ vdbId }`.
 *
 * AcquireLease validates the input and takes the VDB's lease, so that no other run is changing or
 * copying it; PlanDeleteVdb refuses, before touching anything, a VDB that others depend on (naming
 * them), then runs `virtual.unconfigure` and `virtual.cleanup`; UnmountTarget unmounts; MarkStopped
 * records a VDB that was RUNNING as STOPPED, since the engine refuses to delete a RUNNING VDB;
 * DeleteVdb destroys it in the engine (its lease with it); ReleaseLease then has nothing left to give
 * back. Nothing is deleted unless the unmount succeeded. If the unmount, the record or the engine
 * delete fails, a VDB that was mounted is mounted again and reconfigured before the execution fails
 * with the original error. Every failure after AcquireLease releases the lease.
 */
export class DeleteVdbWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: DeleteVdbWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands } = props;

    const plan = planVdbLifecycleStep(this, 'PlanDeleteVdb', functions.planVdbLifecycle, 'delete-vdb');
    const unmount = targetCommand(this, 'UnmountTarget', hostCommands, 'unmount', '$.plan.unmount');
    const markStopped = updateVdbStateStep(this, 'MarkStopped', functions.updateVdbState, { status: 'STOPPED' });
    const destroy = lambdaStep(this, 'DeleteVdb', functions.deleteVdb, {
      payload: sfn.TaskInput.fromObject({ vdbId: sfn.JsonPath.stringAt('$.plan.vdbId') }),
      resultPath: '$.deleted',
    });

    const lease = new DatasetLease(this, { workflow: 'delete-vdb', lease: props.lease });
    plan.addCatch(lease.failed, { resultPath: ERROR_PATH });
    const restore = remountAfterFailure(this, {
      hostCommands,
      updateVdbState: functions.updateVdbState,
      operation: 'reconfigure',
      failed: lease.failed,
    });
    unmount.addCatch(restore, { resultPath: ERROR_PATH });
    markStopped.addCatch(restore, { resultPath: ERROR_PATH });
    destroy.addCatch(restore, { resultPath: ERROR_PATH });

    const definition = lease
      .acquire()
      .next(plan)
      .next(unmount)
      .next(
        // A VDB that was STOPPED, or left PROVISIONING by a failed provision, keeps its status.
        new sfn.Choice(this, 'WasRunning')
          .when(sfn.Condition.booleanEquals('$.plan.mounted', true), markStopped.next(destroy))
          .otherwise(destroy),
      );
    destroy
      .next(lease.releaseThen(new sfn.Pass(this, 'Output', { inputPath: '$.deleted' })))
      .next(new sfn.Succeed(this, 'Deleted'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'delete-vdb', definition }).stateMachine;
  }
}
