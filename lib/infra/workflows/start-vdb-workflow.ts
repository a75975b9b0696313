import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { HostCommandResources } from '../run-command';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH } from './failure-states';
import { planVdbLifecycleStep, targetCommand, unmountAfterFailure, updateVdbStateStep } from './vdb-steps';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface StartVdbWorkflowProps {
  /** The plan-vdb-lifecycle and update-vdb-state functions. */
  readonly functions: { readonly planVdbLifecycle: lambda.IFunction; readonly updateVdbState: lambda.IFunction };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
}

/**
 * The `start-vdb` workflow: mount a stopped VDB and start it (SDK §4.11).
 *
 * Input `{ vdbId }`; output `{ vdbId, status, enabled }`.
 *
 * AcquireLease validates the input and takes the VDB's lease; PlanStartVdb refuses a disabled VDB and
 * plans the mount of its current timeflow; MountTarget mounts it (a VDB already mounted stays so);
 * StartVdb runs `virtual.start` and records RUNNING; ReleaseLease gives the lease back. If StartVdb
 * fails, a VDB that was not mounted before is unmounted again, and the execution fails with the
 * original error. Every failure after AcquireLease releases the lease.
 */
export class StartVdbWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: StartVdbWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands } = props;

    const plan = planVdbLifecycleStep(this, 'PlanStartVdb', functions.planVdbLifecycle, 'start-vdb');
    const mount = targetCommand(this, 'MountTarget', hostCommands, 'mount', '$.plan.mount');
    const start = updateVdbStateStep(
      this,
      'StartVdb',
      functions.updateVdbState,
      { operation: 'start', status: 'RUNNING' },
      { resultPath: '$.state' },
    );

    const lease = new DatasetLease(this, { workflow: 'start-vdb', lease: props.lease });
    const { failed } = lease;
    plan.addCatch(failed, { resultPath: ERROR_PATH });
    // A failed mount mounted nothing, and whatever holds the mount point is not ours to unmount.
    mount.addCatch(failed, { resultPath: ERROR_PATH });
    start.addCatch(unmountAfterFailure(this, hostCommands, failed), { resultPath: ERROR_PATH });

    const definition = lease
      .acquire()
      .next(plan)
      .next(mount)
      .next(start)
      .next(lease.releaseThen(new sfn.Pass(this, 'Output', { inputPath: '$.state' })))
      .next(new sfn.Succeed(this, 'Started'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'start-vdb', definition }).stateMachine;
  }
}
