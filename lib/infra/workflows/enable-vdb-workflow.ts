import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { HostCommandResources } from '../run-command';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH } from './failure-states';
import { planVdbLifecycleStep, targetCommand, unmountAfterFailure, updateVdbStateStep } from './vdb-steps';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface EnableVdbWorkflowProps {
  /** The plan-vdb-lifecycle and update-vdb-state functions. */
  readonly functions: { readonly planVdbLifecycle: lambda.IFunction; readonly updateVdbState: lambda.IFunction };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
}

/**
 * The `enable-vdb` workflow: bring a disabled VDB back (SDK §4.13).
 *
 * Input `{ vdbId }`; output `{ vdbId, status, enabled }`.
 *
 * AcquireLease validates the input and takes the VDB's lease; PlanEnableVdb asks the plugin's
 * `virtual.status`. An INACTIVE dataset is mounted (MountTarget) and reconfigured (ReconfigureVdb,
 * `virtual.reconfigure` with its source config), then recorded enabled and RUNNING; an ACTIVE one is up
 * already and only recorded so (MarkEnabled); ReleaseLease gives the lease back. If ReconfigureVdb
 * fails, a VDB that was not mounted before is unmounted again, and the execution fails with the
 * original error. Every failure after AcquireLease releases the lease.
 */
export class EnableVdbWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: EnableVdbWorkflowProps) {
    super(scope, id);
    const { functions, hostCommands } = props;

    const plan = planVdbLifecycleStep(this, 'PlanEnableVdb', functions.planVdbLifecycle, 'enable-vdb');
    const mount = targetCommand(this, 'MountTarget', hostCommands, 'mount', '$.plan.mount');
    const enabled = { status: 'RUNNING', enabled: true } as const;
    const reconfigure = updateVdbStateStep(
      this,
      'ReconfigureVdb',
      functions.updateVdbState,
      { operation: 'reconfigure', ...enabled },
      { resultPath: '$.state' },
    );
    const mark = updateVdbStateStep(this, 'MarkEnabled', functions.updateVdbState, enabled, { resultPath: '$.state' });
    const lease = new DatasetLease(this, { workflow: 'enable-vdb', lease: props.lease });
    const output = new sfn.Pass(this, 'Output', { inputPath: '$.state' });
    const done = lease.releaseThen(output);

    const { failed } = lease;
    plan.addCatch(failed, { resultPath: ERROR_PATH });
    // A failed mount mounted nothing, and whatever holds the mount point is not ours to unmount.
    mount.addCatch(failed, { resultPath: ERROR_PATH });
    reconfigure.addCatch(unmountAfterFailure(this, hostCommands, failed), { resultPath: ERROR_PATH });
    mark.addCatch(failed, { resultPath: ERROR_PATH });

    const definition = lease
      .acquire()
      .next(plan)
      .next(
        new sfn.Choice(this, 'PluginStatus')
          .when(sfn.Condition.stringEquals('$.plan.pluginStatus', 'ACTIVE'), mark.next(done))
          .otherwise(mount.next(reconfigure).next(done)),
      );
    output.next(new sfn.Succeed(this, 'Enabled'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'enable-vdb', definition }).stateMachine;
  }
}
