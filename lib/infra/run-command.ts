import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { ErrorNames } from '../core/errors';
import type { DocumentKind } from '../core/host-plan';
import { lambdaStep } from './lambda-step';
import type { SnapflowDocuments } from './ssm-documents';

/** What every Run Command fragment of a stack shares, and the workflows whose undo steps touch hosts. */
export interface HostCommandResources {
  /** The documents the fragments run. */
  readonly documents: SnapflowDocuments;
  /** The raise-host-error function, which turns a failed command into its named error. */
  readonly raiseHostError: lambda.IFunction;
  /** The note-undo-failure function, which adds an undo step's failure to the workflow's cause. */
  readonly noteUndoFailure: lambda.IFunction;
  /**
   * Where SSM writes each command's full output. The hosts' instance profiles need permission to
   * write to it (`CloudWatchAgentServerPolicy` or `logs:CreateLogStream`/`logs:PutLogEvents`).
   */
  readonly outputLogGroup: logs.ILogGroup;
}

export interface RunCommandProps {
  readonly hostCommands: HostCommandResources;
  /** The document to run. */
  readonly document: DocumentKind;
  /** JSONPath to the {@link HostPlan} in the state, e.g. `$.plan.mount`. */
  readonly planPath: string;
  /**
   * The request field each document parameter came from, so that errors name what the user wrote.
   * @default none
   */
  readonly fields?: Record<string, string>;
  /**
   * How long SSM waits for the host's agent to pick the command up.
   * @default 2 minutes
   */
  readonly deliveryTimeout?: Duration;
  /**
   * When to send the whole command again, for a document that is safe to repeat.
   * @default never
   */
  readonly retry?: sfn.RetryProps;
}

/**
 * Request fields the staging host's command parameters come from: the mount point of a dSource's
 * storage, which the copy fills.
 */
export const STAGING_FIELDS = { MountPath: 'linkedSource.mountLocation', Destination: 'linkedSource.mountLocation' };

/**
 * The tag a host must carry for Snapflow's workflows to send it commands: an EC2 instance or a hybrid
 * managed instance tagged `SnapflowHost=true`. Snapflow's documents run as root, so the workflows may
 * not send them to the account's other instances.
 */
export const HOST_TAG = { key: 'SnapflowHost', value: 'true' } as const;

/** SSM answers that mean the command has not ended yet. */
const RUNNING = ['Pending', 'InProgress', 'Delayed', 'Cancelling'];
/** SSM errors that mean "try again"; the error names follow Step Functions' `Ssm.<Name>Exception`. */
const SSM_TRANSIENT_ERRORS = ['Ssm.ThrottlingException', 'Ssm.InternalServerErrorException'];
const FIRST_WAIT_SECONDS = 2;
/** Polls per command at most, whatever its timeout: a Standard execution's history holds 25,000 events. */
const POLL_BUDGET = 360;

/**
 * Runs one SSM document on one host, as a single Parallel state named `id` whose one branch sends the
 * command (`ssm:sendCommand`, output to CloudWatch), waits, polls `ssm:getCommandInvocation` until the
 * command ends, and then succeeds on Success or hands the invocation to RaiseHostError, which throws
 * the error the host script reported (e.g. MountPointNotEmptyError). A command still running once
 * delivery and execution timeouts have both passed is cancelled and fails as HostCommandTimedOutError;
 * SSM's own timeouts normally end it first. Errors leave the Parallel by name, to the workflow's Catch.
 * The result `{ Status, Output }` (Output is the command's standard output) goes to `$.results.<id>`,
 * the id's first letter lower-cased (`MountStaging` → `$.results.mountStaging`).
 *
 * Grants the state machine `ssm:SendCommand` on this document and on instances tagged with
 * {@link HOST_TAG} (EC2 and hybrid managed instances), and `ssm:GetCommandInvocation`/`ssm:CancelCommand`,
 * which have no resource-level permissions.
 */
export class RunCommand extends sfn.StateMachineFragment {
  readonly startState: sfn.State;
  readonly endStates: sfn.INextable[];
  /** The longest the fragment can take before its poll bound ends it, every retry included. */
  readonly maxDuration: Duration;
  private readonly parallel: sfn.Parallel;

  constructor(scope: Construct, id: string, props: RunCommandProps) {
    super(scope, id);
    const { documents, raiseHostError, outputLogGroup } = props.hostCommands;
    const kind = props.document;
    const name = (state: string) => `${id}.${state}`;
    const executionSeconds = documents.timeoutSeconds[kind];
    const deliverySeconds = (props.deliveryTimeout ?? Duration.minutes(2)).toSeconds();
    // Short commands are seen to end after the first wait; long ones are polled less often, so a long
    // copy stays well inside the execution history limit.
    const intervalSeconds = Math.max(FIRST_WAIT_SECONDS, Math.ceil(executionSeconds / POLL_BUDGET));
    const maxPolls = Math.ceil((deliverySeconds + executionSeconds) / intervalSeconds) + 2;
    this.maxDuration = Duration.seconds(withRetries((maxPolls + 1) * intervalSeconds, props.retry));
    const stack = Stack.of(this);
    for (const hosts of [
      'ec2:<AWS::Region>:<AWS::AccountId>:instance/*',
      'ssm:<AWS::Region>:<AWS::AccountId>:managed-instance/*',
    ]) {
      Validations.of(stack).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${hosts}]`,
        reason: `Hosts are chosen at run time from the engine's environments; ssm:SendCommand on them is limited to instances tagged ${HOST_TAG.key}=${HOST_TAG.value}, and to Snapflow's documents, whose parameters are pattern-checked.`,
      });
    }

    // Two statements: the tag condition applies to the hosts, which carry the tag, not to the document.
    const send = new tasks.CallAwsService(this, name('Send'), {
      service: 'ssm',
      action: 'sendCommand',
      iamAction: 'ssm:SendCommand',
      iamResources: [documents.arn(kind)],
      additionalIamStatements: [
        new iam.PolicyStatement({
          actions: ['ssm:SendCommand'],
          resources: [
            stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
            stack.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
          ],
          conditions: { StringEquals: { [`ssm:resourceTag/${HOST_TAG.key}`]: HOST_TAG.value } },
        }),
      ],
      parameters: {
        DocumentName: documents.documents[kind].ref,
        InstanceIds: sfn.JsonPath.array(sfn.JsonPath.stringAt('$.plan.hostId')),
        Parameters: sfn.JsonPath.objectAt('$.plan.parameters'),
        TimeoutSeconds: deliverySeconds,
        CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: outputLogGroup.logGroupName },
      },
      resultSelector: { CommandId: sfn.JsonPath.stringAt('$.Command.CommandId'), Polls: 0 },
      resultPath: '$.command',
    });
    send.addRetry({ errors: SSM_TRANSIENT_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });

    const poll = new tasks.CallAwsService(this, name('Poll'), {
      service: 'ssm',
      action: 'getCommandInvocation',
      iamAction: 'ssm:GetCommandInvocation',
      iamResources: ['*'],
      parameters: {
        CommandId: sfn.JsonPath.stringAt('$.command.CommandId'),
        InstanceId: sfn.JsonPath.stringAt('$.plan.hostId'),
      },
      resultSelector: {
        Status: sfn.JsonPath.stringAt('$.Status'),
        ResponseCode: sfn.JsonPath.numberAt('$.ResponseCode'),
        StandardOutputContent: sfn.JsonPath.stringAt('$.StandardOutputContent'),
        StandardErrorContent: sfn.JsonPath.stringAt('$.StandardErrorContent'),
      },
      resultPath: '$.invocation',
    });
    // Just after sendCommand, SSM may not know the invocation yet.
    poll.addRetry({
      errors: ['Ssm.InvocationDoesNotExistException'],
      interval: Duration.seconds(1),
      maxAttempts: 5,
      backoffRate: 2,
    });
    poll.addRetry({ errors: SSM_TRANSIENT_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });

    const cancel = new tasks.CallAwsService(this, name('Cancel'), {
      service: 'ssm',
      action: 'cancelCommand',
      iamAction: 'ssm:CancelCommand',
      iamResources: ['*'],
      parameters: {
        CommandId: sfn.JsonPath.stringAt('$.command.CommandId'),
        InstanceIds: sfn.JsonPath.array(sfn.JsonPath.stringAt('$.plan.hostId')),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    const timedOut = new sfn.Fail(this, name('TimedOut'), {
      error: ErrorNames.HostCommandTimedOut,
      cause: `The ${kind} command did not end within ${deliverySeconds + executionSeconds} seconds and was cancelled`,
    });
    // The command may end between the last poll and the cancel; it timed out all the same.
    cancel.addCatch(timedOut, { resultPath: sfn.JsonPath.DISCARD });

    const raise = lambdaStep(this, name('RaiseHostError'), raiseHostError, {
      payload: sfn.TaskInput.fromObject({
        document: kind,
        hostId: sfn.JsonPath.stringAt('$.plan.hostId'),
        invocation: sfn.JsonPath.objectAt('$.invocation'),
        fields: props.fields ?? {},
      }),
    });
    // RaiseHostError always throws; should it ever return, the command still failed.
    const failed = new sfn.Fail(this, name('Failed'), {
      error: ErrorNames.HostCommandFailed,
      cause: `The ${kind} command failed`,
    });

    const count = new sfn.Pass(this, name('Count'), {
      parameters: {
        CommandId: sfn.JsonPath.stringAt('$.command.CommandId'),
        Polls: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt('$.command.Polls'), 1),
      },
      resultPath: '$.command',
    });
    const wait = new sfn.Wait(this, name('Wait'), { time: sfn.WaitTime.duration(Duration.seconds(intervalSeconds)) });
    const running = sfn.Condition.or(
      ...RUNNING.map((status) => sfn.Condition.stringEquals('$.invocation.Status', status)),
    );
    const check = new sfn.Choice(this, name('Check'))
      .when(sfn.Condition.stringEquals('$.invocation.Status', 'Success'), new sfn.Succeed(this, name('Succeeded')))
      .when(
        sfn.Condition.and(running, sfn.Condition.numberGreaterThanEquals('$.command.Polls', maxPolls)),
        cancel.next(timedOut),
      )
      .when(running, count.next(wait).next(poll))
      .otherwise(raise.next(failed));

    const branch = send
      .next(
        new sfn.Wait(this, name('WaitBriefly'), { time: sfn.WaitTime.duration(Duration.seconds(FIRST_WAIT_SECONDS)) }),
      )
      .next(poll)
      .next(check);

    this.parallel = new sfn.Parallel(this, id, {
      parameters: { plan: sfn.JsonPath.objectAt(props.planPath) },
      resultSelector: {
        Status: sfn.JsonPath.stringAt('$[0].invocation.Status'),
        Output: sfn.JsonPath.stringAt('$[0].invocation.StandardOutputContent'),
      },
      resultPath: `$.results.${id.charAt(0).toLowerCase()}${id.slice(1)}`,
    }).branch(branch);
    if (props.retry !== undefined) this.parallel.addRetry(props.retry);
    this.startState = this.parallel;
    this.endStates = [this.parallel];
  }

  /** Sends the fragment's errors to `handler`. */
  addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): this {
    this.parallel.addCatch(handler, props);
    return this;
  }
}

/** How long a state may take in all, given how long one attempt may take and its Retry. */
function withRetries(attemptSeconds: number, retry: sfn.RetryProps | undefined): number {
  if (retry === undefined) return attemptSeconds;
  // The States Language defaults: 3 attempts, 1 s apart at first, twice as long each time.
  const retries = retry.maxAttempts ?? 3;
  const first = retry.interval?.toSeconds() ?? 1;
  const rate = retry.backoffRate ?? 2;
  const cap = retry.maxDelay?.toSeconds() ?? Number.POSITIVE_INFINITY;
  let pauses = 0;
  for (let index = 0; index < retries; index++) pauses += Math.min(first * rate ** index, cap);
  return attemptSeconds * (retries + 1) + Math.ceil(pauses);
}
