import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { HostCommandResources } from '../run-command';
import type { LeaseResources } from './dataset-lease';
import { timeflowChangeDefinition } from './timeflow-change';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface RefreshWorkflowProps {
  /** The plan-refresh, create-timeflow, restore-timeflow and update-vdb-state functions. */
  readonly functions: {
    readonly planRefresh: lambda.IFunction;
    readonly createTimeflow: lambda.IFunction;
    readonly restoreTimeflow: lambda.IFunction;
    readonly updateVdbState: lambda.IFunction;
  };
  readonly hostCommands: HostCommandResources;
  readonly lease: LeaseResources;
}

/**
 * The `refresh` workflow: re-provision a VDB from a snapshot of its parent dataset (default: the
 * parent's latest), on a new timeflow. Local changes stay on the previous timeflow, which is kept.
 *
 * Input `{ vdbId, snapshotId? }`; output `{ vdbId, timeflowId, snapshotId }`. The states, and how a
 * failure restores the previous timeflow, are described at {@link timeflowChangeDefinition}.
 */
export class RefreshWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RefreshWorkflowProps) {
    super(scope, id);
    const { functions } = props;
    const definition = timeflowChangeDefinition(this, {
      kind: 'refresh',
      plan: { id: 'PlanRefresh', fn: functions.planRefresh },
      functions,
      hostCommands: props.hostCommands,
      lease: props.lease,
      operation: 'configure',
      succeeded: 'Refreshed',
    });
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'refresh', definition }).stateMachine;
  }
}
