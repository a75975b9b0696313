import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { HostCommandResources } from '../run-command';
import type { LeaseResources } from './dataset-lease';
import { timeflowChangeDefinition } from './timeflow-change';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface RollbackWorkflowProps {
  /** The plan-rollback, create-timeflow, restore-timeflow and update-vdb-state functions. */
  readonly functions: {
    readonly planRollback: lambda.IFunction;
    readonly createTimeflow: lambda.IFunction;
    readonly restoreTimeflow: lambda.IFunction;
    readonly updateVdbState: lambda.IFunction;
  };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
}

/**
 * The `rollback` workflow: take a VDB back to one of its own snapshots, on a new timeflow. The timeflow
 * it leaves stays, listed and readable.
 *
 * Input `{ vdbId, snapshotId }`; output `{ vdbId, timeflowId, snapshotId }`. The states, and how a
 * failure restores the previous timeflow, are described at {@link timeflowChangeDefinition}.
 */
export class RollbackWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RollbackWorkflowProps) {
    super(scope, id);
    const { functions } = props;
    const definition = timeflowChangeDefinition(this, {
      kind: 'rollback',
      plan: { id: 'PlanRollback', fn: functions.planRollback },
      functions,
      hostCommands: props.hostCommands,
      lease: props.lease,
      operation: 'reconfigure',
      succeeded: 'RolledBack',
    });
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'rollback', definition }).stateMachine;
  }
}
