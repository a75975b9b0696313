import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import { DatasetLease, type LeaseResources } from './dataset-lease';
import { ERROR_PATH, requestToken } from './failure-states';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface SnapshotVdbWorkflowProps {
  /** The snapshot-vdb function. */
  readonly functions: { readonly snapshotVdb: lambda.IFunction };
  readonly lease: LeaseResources;
}

/**
 * The `snapshot-vdb` workflow: snapshot a VDB's current timeflow (SDK §4.8).
 *
 * Input `{ vdbId, trigger: { kind, id? } }`; output `{ vdbId, snapshotId }`.
 *
 * AcquireLease validates the input and takes the VDB's lease, waiting while another run (a refresh,
 * say) changes the VDB; SnapshotVdb runs `virtual.preSnapshot`, the engine snapshot and
 * `virtual.postSnapshot`; ReleaseLease gives the lease back. It touches no host, and the engine records
 * the snapshot in one call, so a failure leaves nothing to undo but the lease; the call carries a
 * request token of the execution and state, so that a retry after a lost answer does not take a second
 * snapshot.
 */
export class SnapshotVdbWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: SnapshotVdbWorkflowProps) {
    super(scope, id);
    const lease = new DatasetLease(this, { workflow: 'snapshot-vdb', lease: props.lease });
    const snapshot = lambdaStep(this, 'SnapshotVdb', props.functions.snapshotVdb, {
      payload: sfn.TaskInput.fromObject({
        request: sfn.JsonPath.entirePayload,
        requestToken: requestToken('SnapshotVdb'),
      }),
      resultPath: '$.snapshot',
    });
    snapshot.addCatch(lease.failed, { resultPath: ERROR_PATH });

    const definition = lease
      .acquire()
      .next(snapshot)
      .next(lease.releaseThen(new sfn.Pass(this, 'Output', { inputPath: '$.snapshot' })))
      .next(new sfn.Succeed(this, 'Snapshotted'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', {
      workflow: 'snapshot-vdb',
      definition,
    }).stateMachine;
  }
}
