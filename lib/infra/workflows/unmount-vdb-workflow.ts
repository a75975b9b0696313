import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { HostCommandResources } from '../run-command';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH } from './failure-states';
import { planVdbLifecycleStep, remountAfterFailure, targetCommand, updateVdbStateStep } from './vdb-steps';
import { WorkflowStateMachine } from './workflow-state-machine';

/** The two workflows that take a VDB off its host without deleting it, and what tells them apart. */
const VARIANTS = {
  /** SDK §4.12: `virtual.stop`, unmount; the VDB stays enabled. On failure: remount, `virtual.start`. */
  'stop-vdb': {
    plan: 'PlanStopVdb',
    mark: 'MarkStopped',
    state: { status: 'STOPPED' },
    restore: 'start',
    done: 'Stopped',
  },
  /**
   * SDK §4.14: `virtual.unconfigure`, unmount; the VDB then refuses start and stop until enabled
   * again. On failure: remount, `virtual.reconfigure`.
   */
  'disable-vdb': {
    plan: 'PlanDisableVdb',
    mark: 'MarkDisabled',
    state: { status: 'STOPPED', enabled: false },
    restore: 'reconfigure',
    done: 'Disabled',
  },
} as const;

export interface UnmountVdbWorkflowProps {
  readonly workflow: keyof typeof VARIANTS;
  /** The plan-vdb-lifecycle and update-vdb-state functions. */
  readonly functions: { readonly planVdbLifecycle: lambda.IFunction; readonly updateVdbState: lambda.IFunction };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
}

/**
 * The `stop-vdb` and `disable-vdb` workflows.
 *
 * Input `{ vdbId }`; output `{ vdbId, status, enabled }`.
 *
 * AcquireLease validates the input and takes the VDB's lease; the plan step runs the plugin
 * operation (`virtual.stop` or `virtual.unconfigure`; stop refuses a disabled VDB) and plans the
 * unmount; UnmountTarget unmounts; the mark step records the new state; ReleaseLease gives the lease
 * back. If the unmount or the record fails, a VDB that was mounted is mounted again and restarted or
 * reconfigured (RUNNING) before the execution fails with the original error. Every failure after
 * AcquireLease releases the lease.
 */
export class UnmountVdbWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: UnmountVdbWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands, workflow } = props;
    const variant = VARIANTS[workflow];

    const plan = planVdbLifecycleStep(this, variant.plan, functions.planVdbLifecycle, workflow);
    const unmount = targetCommand(this, 'UnmountTarget', hostCommands, 'unmount', '$.plan.unmount');
    const mark = updateVdbStateStep(this, variant.mark, functions.updateVdbState, variant.state, {
      resultPath: '$.state',
    });

    const lease = new DatasetLease(this, { workflow, lease: props.lease });
    plan.addCatch(lease.failed, { resultPath: ERROR_PATH });
    const restore = remountAfterFailure(this, {
      hostCommands,
      updateVdbState: functions.updateVdbState,
      operation: variant.restore,
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
      .next(new sfn.Succeed(this, variant.done));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow, definition }).stateMachine;
  }
}
