import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { HostCommandResources } from '../run-command';
import { ERROR_PATH, failWithCaughtError } from './failure-states';
import { planVdbLifecycleStep, targetCommand, unmountAfterFailure, updateVdbStateStep } from './vdb-steps';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface EnableVdbWorkflowProps {
  /** The plan-vdb-lifecycle and update-vdb-state functions. */
  readonly functions: { readonly planVdbLifecycle: lambda.IFunction; readonly updateVdbState: lambda.IFunction };
  readonly hostCommands: HostCommandResources;
}

/**
 * The `enable-vdb` workflow: bring a disabled VDB back (SDK §4.13).
 *
 * Input `{ vdbId }`; output `{ vdbId, status, enabled }`.
 *
 * PlanEnableVdb asks the plugin's `virtual.status`. An INACTIVE dataset is mounted (MountTarget) and
 * reconfigured (ReconfigureVdb, `virtual.reconfigure` with its source config), then recorded enabled
 * and RUNNING; an ACTIVE one is up already and only recorded so (MarkEnabled). If ReconfigureVdb
 * fails, a VDB that was not mounted before is unmounted again, and the execution fails with the
 * original error.
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
    const output = new sfn.Pass(this, 'Output', { inputPath: '$.state' });

    const failed = failWithCaughtError(this);
    // A failed mount mounted nothing, and whatever holds the mount point is not ours to unmount.
    mount.addCatch(failed, { resultPath: ERROR_PATH });
    reconfigure.addCatch(unmountAfterFailure(this, hostCommands, failed), { resultPath: ERROR_PATH });
    mark.addCatch(failed, { resultPath: ERROR_PATH });

    const definition = plan.next(
      new sfn.Choice(this, 'PluginStatus')
        .when(sfn.Condition.stringEquals('$.plan.pluginStatus', 'ACTIVE'), mark.next(output))
        .otherwise(mount.next(reconfigure).next(output)),
    );
    output.next(new sfn.Succeed(this, 'Enabled'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'enable-vdb', definition }).stateMachine;
  }
}
