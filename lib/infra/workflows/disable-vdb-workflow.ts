import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { HostCommandResources } from '../run-command';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH, failWithCaughtError } from './failure-states';
import { planVdbLifecycleStep, remountAfterFailure, targetCommand, updateVdbStateStep } from './vdb-steps';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface DisableVdbWorkflowProps {
  /** The plan-vdb-lifecycle and update-vdb-state functions. */
  readonly functions: { readonly planVdbLifecycle: lambda.IFunction; readonly updateVdbState: lambda.IFunction };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
}

/**
 * The `disable-vdb` workflow: unconfigure and unmount a VDB, which then refuses start and stop until
 * it is enabled again (SDK §4.14).
 *
 * Input `{ vdbId }`; output `{ vdbId, status, enabled }`.
 *
 * AcquireLease validates the input and takes the VDB's lease; PlanDisableVdb runs `virtual.unconfigure`
 * and plans the unmount; UnmountTarget unmounts; MarkDisabled records it disabled and STOPPED;
 * ReleaseLease gives the lease back. If the unmount or the record fails, a VDB that was mounted is
 * mounted again and reconfigured (RUNNING) before the execution fails with the original error. Every
 * failure after AcquireLease releases the lease.
 */
export class DisableVdbWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: DisableVdbWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands } = props;

    const plan = planVdbLifecycleStep(this, 'PlanDisableVdb', functions.planVdbLifecycle, 'disable-vdb');
    const unmount = targetCommand(this, 'UnmountTarget', hostCommands, 'unmount', '$.plan.unmount');
    const mark = updateVdbStateStep(
      this,
      'MarkDisabled',
      functions.updateVdbState,
      { status: 'STOPPED', enabled: false },
      { resultPath: '$.state' },
    );

    const lease = new DatasetLease(this, {
      workflow: 'disable-vdb',
      lease: props.lease,
      failed: failWithCaughtError(this),
    });
    plan.addCatch(lease.failed, { resultPath: ERROR_PATH });
    const restore = remountAfterFailure(this, {
      hostCommands,
      updateVdbState: functions.updateVdbState,
      operation: 'reconfigure',
      failed: lease.failed,
    });
    unmount.addCatch(restore, { resultPath: ERROR_PATH });
    mark.addCatch(restore, { resultPath: ERROR_PATH });

    const definition = lease
      .acquire()
      .next(plan)
      .next(unmount)
      .next(mark)
      .next(lease.releaseThen(new sfn.Pass(this, 'Output', { inputPath: '$.state' })))
      .next(new sfn.Succeed(this, 'Disabled'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', {
      workflow: 'disable-vdb',
      definition,
    }).stateMachine;
  }
}
