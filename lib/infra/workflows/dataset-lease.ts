import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { QueueingErrorNames } from '../../core/errors';
import { LEASED_DATASET_FIELD, type LeasedWorkflow } from '../../core/steps/dataset-lease';
import { lambdaStep } from '../lambda-step';
import { RunCommand } from '../run-command';
import { failWithCaughtError } from './failure-states';

/** What every workflow that changes a dataset shares to take and give back the dataset's lease. */
export interface LeaseResources {
  /** The acquire-lease function, which also validates the workflow's input. */
  readonly acquireLease: lambda.IFunction;
  /** The release-lease function. */
  readonly releaseLease: lambda.IFunction;
  /**
   * How long a run waits for a lease another run holds: as long as the longest run may hold one, so
   * that a queued run gives up only once that lease would have lapsed anyway.
   * @default the run's own bound ({@link runBound})
   */
  readonly queueWait?: Duration;
}

/** Time for a workflow's Lambda steps, retries included, on top of its host commands. */
const LAMBDA_STEPS_ALLOWANCE = Duration.minutes(5);

/** Where the ReleaseLease tasks put their own failure: the run's result and error stay as they were. */
const LEASE_ERROR_PATH = '$.leaseError';

const QUEUE_FIRST_WAIT_SECONDS = 2;
const QUEUE_BACKOFF_RATE = 1.5;
/** The longest pause between two attempts: a queued run starts at most this long after the lease is free. */
const QUEUE_MAX_DELAY_SECONDS = 15;
/** Attempts per queued run at most, whatever its wait: each adds three events to a history of at most 25,000. */
const QUEUE_ATTEMPT_BUDGET = 1000;

/**
 * The longest a workflow built in `scope` can run: every host command under it at its poll bound, plus
 * time for the Lambda steps. Its lease lasts that long, so that a run that dies without releasing it
 * (an execution stopped by hand) blocks the dataset no longer.
 */
export function runBound(scope: Construct): Duration {
  const hostSeconds = scope.node
    .findAll()
    .filter((construct): construct is RunCommand => construct instanceof RunCommand)
    .reduce((sum, command) => sum + command.maxDuration.toSeconds(), 0);
  return Duration.seconds(hostSeconds + LAMBDA_STEPS_ALLOWANCE.toSeconds());
}

/**
 * The Retry that queues a run behind the one holding the lease: 2 s, then 1.5 times longer each time
 * up to 15 s (more for waits so long that the attempt budget would run out), for as many attempts as
 * add up to `wait`. No jitter: the total wait must cover the holder's whole lease, and FULL jitter
 * would halve it on average.
 */
function queueRetry(wait: Duration): sfn.RetryProps {
  const { maxDelaySeconds, attempts } = queueSchedule(wait);
  return {
    errors: [...QueueingErrorNames],
    interval: Duration.seconds(QUEUE_FIRST_WAIT_SECONDS),
    backoffRate: QUEUE_BACKOFF_RATE,
    maxDelay: Duration.seconds(maxDelaySeconds),
    maxAttempts: attempts,
  };
}

/** How long {@link queueRetry} for `wait` waits in all before the run gives up: `wait`, rounded up to whole attempts. */
export function queueDuration(wait: Duration): Duration {
  return Duration.seconds(queueSchedule(wait).waitedSeconds);
}

function queueSchedule(wait: Duration): { maxDelaySeconds: number; attempts: number; waitedSeconds: number } {
  const waitSeconds = wait.toSeconds();
  const maxDelaySeconds = Math.max(QUEUE_MAX_DELAY_SECONDS, Math.ceil(waitSeconds / QUEUE_ATTEMPT_BUDGET));
  let attempts = 0;
  let waitedSeconds = 0;
  while (waitedSeconds < waitSeconds) {
    waitedSeconds += Math.min(QUEUE_FIRST_WAIT_SECONDS * QUEUE_BACKOFF_RATE ** attempts, maxDelaySeconds);
    attempts += 1;
  }
  return { maxDelaySeconds, attempts, waitedSeconds: Math.ceil(waitedSeconds) };
}

export interface DatasetLeaseProps {
  readonly workflow: LeasedWorkflow;
  readonly lease: LeaseResources;
}

/**
 * The lease of the dataset a workflow changes, held by the execution (`$$.Execution.Id`) from its
 * first state to its last, so that runs on one dataset never overlap: a later run waits for the lease
 * in its AcquireLease state. The lease is given back when the run succeeds and, after the undo, when
 * it fails.
 */
export class DatasetLease {
  /**
   * Where every failure after AcquireLease goes: releases the lease, then fails with the original
   * error (the workflow's `Failed` state, {@link failWithCaughtError}). Should the release fail, it
   * fails all the same with the original error; the lease then lapses when its time is up.
   */
  readonly failed: sfn.IChainable;
  private readonly scope: Construct;
  private readonly props: DatasetLeaseProps;

  constructor(scope: Construct, props: DatasetLeaseProps) {
    this.scope = scope;
    this.props = props;
    const failed = failWithCaughtError(scope);
    const release = this.releaseStep('ReleaseLeaseAfterFailure');
    release.addCatch(failed, { resultPath: LEASE_ERROR_PATH });
    this.failed = release.next(failed);
  }

  /**
   * The workflow's first state: validates the input and takes the lease, retrying while another run
   * holds it. Call it once the workflow's host commands exist: the lease lasts {@link runBound}.
   */
  acquire(): sfn.TaskStateBase {
    const { workflow, lease } = this.props;
    const ttl = runBound(this.scope);
    const acquire = lambdaStep(this.scope, 'AcquireLease', lease.acquireLease, {
      payload: sfn.TaskInput.fromObject({
        workflow,
        request: sfn.JsonPath.entirePayload,
        holder: sfn.JsonPath.executionId,
        ttlSeconds: ttl.toSeconds(),
      }),
      // The input stays as it came, for the steps that validate it again and for the release.
      resultPath: sfn.JsonPath.DISCARD,
    });
    acquire.addRetry(queueRetry(lease.queueWait ?? ttl));
    return acquire;
  }

  /**
   * ReleaseLease, then `next`, on the success path. A release that fails does not fail a run whose work
   * is done: the lease lapses when its time is up, and the failure stays in the execution's history.
   */
  releaseThen(next: sfn.State & sfn.INextable): sfn.Chain {
    const release = this.releaseStep('ReleaseLease');
    release.addCatch(next, { resultPath: LEASE_ERROR_PATH });
    release.next(next);
    return sfn.Chain.custom(release, [next], next);
  }

  private releaseStep(id: string): sfn.TaskStateBase {
    return lambdaStep(this.scope, id, this.props.lease.releaseLease, {
      payload: sfn.TaskInput.fromObject({
        datasetId: sfn.JsonPath.stringAt(`$.${LEASED_DATASET_FIELD[this.props.workflow]}`),
        holder: sfn.JsonPath.executionId,
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
  }
}
