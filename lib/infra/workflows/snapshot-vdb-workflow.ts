import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface SnapshotVdbWorkflowProps {
  /** The snapshot-vdb function. */
  readonly functions: { readonly snapshotVdb: lambda.IFunction };
}

/**
 * The `snapshot-vdb` workflow: snapshot a VDB's current timeflow (SDK §4.8).
 *
 * Input `{ vdbId, trigger: { kind, id? } }`; output `{ vdbId, snapshotId }`.
 *
 * One task, SnapshotVdb, validates the request and runs `virtual.preSnapshot`, the engine snapshot
 * and `virtual.postSnapshot`. It touches no host, and the engine records the snapshot in one call, so a
 * failure leaves nothing to undo.
 */
export class SnapshotVdbWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: SnapshotVdbWorkflowProps) {
    super(scope, id);
    const definition = lambdaStep(this, 'SnapshotVdb', props.functions.snapshotVdb).next(
      new sfn.Succeed(this, 'Snapshotted'),
    );
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', {
      workflow: 'snapshot-vdb',
      definition,
    }).stateMachine;
  }
}
