import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { HostCommandResources } from '../run-command';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH, failWithCaughtError } from './failure-states';
import { planVdbLifecycleStep, remountAfterFailure, targetCommand, updateVdbStateStep } from './vdb-steps';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface StopVdbWorkflowProps {
  /** The plan-vdb-lifecycle and update-vdb-state functions. */
  readonly functions: { readonly planVdbLifecycle: lambda.IFunction; readonly updateVdbState: lambda.IFunction };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
}

/**
 * The `stop-vdb` workflow: stop a VDB and unmount it, keeping it enabled (SDK §4.12).
 *
 * Input `{ vdbId }`; output `{ vdbId, status, enabled }`.
 *
 * AcquireLease validates the input and takes the VDB's lease; PlanStopVdb refuses a disabled VDB, runs
 * `virtual.stop` and plans the unmount; UnmountTarget unmounts; MarkStopped records STOPPED;
 * ReleaseLease gives the lease back. If either host or engine step fails, a VDB that was mounted is
 * mounted again and restarted (`virtual.start`, RUNNING) before the execution fails with the original
 * error. Every failure after AcquireLease releases the lease.
 */
export class StopVdbWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: StopVdbWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands } = props;

    const plan = planVdbLifecycleStep(this, 'PlanStopVdb', functions.planVdbLifecycle, 'stop-vdb');
    const unmount = targetCommand(this, 'UnmountTarget', hostCommands, 'unmount', '$.plan.unmount');
    const mark = updateVdbStateStep(
      this,
      'MarkStopped',
      functions.updateVdbState,
      { status: 'STOPPED' },
      { resultPath: '$.state' },
    );

    const lease = new DatasetLease(this, {
      workflow: 'stop-vdb',
      lease: props.lease,
      failed: failWithCaughtError(this),
    });
    plan.addCatch(lease.failed, { resultPath: ERROR_PATH });
    const restore = remountAfterFailure(this, {
      hostCommands,
      updateVdbState: functions.updateVdbState,
      operation: 'start',
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
      .next(new sfn.Succeed(this, 'Stopped'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'stop-vdb', definition }).stateMachine;
  }
}
