import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { lambdaStep } from '../lambda-step';
import { type HostCommandResources, RunCommand, STAGING_FIELDS } from '../run-command';
import { ERROR_PATH, failWithCaughtError, undoThenFail } from './failure-states';
import type { SyncWorkflow } from './sync-workflow';
import { WorkflowStateMachine } from './workflow-state-machine';

export interface LinkWorkflowProps {
  /** The validate-link, create-dsource and delete-dsource functions. */
  readonly functions: {
    readonly validateLink: lambda.IFunction;
    readonly createDSource: lambda.IFunction;
    readonly deleteDSource: lambda.IFunction;
  };
  /** The sync workflow, run to fill the new dSource. */
  readonly sync: SyncWorkflow;
  /** What the undo's unmount runs with. */
  readonly hostCommands: HostCommandResources;
}

/**
 * The `link` workflow: create a dSource from a source config, then fill it by running the sync
 * workflow once, with a full checksum comparison.
 *
 * Input `{ dsourceId?, name, sourceConfigId, stagingEnvironmentId, linkedSource, policy?, eventSources? }`;
 * output `{ dsourceId, snapshotId }`.
 *
 * ValidateLink checks the request (the policy too) and that what it names exists; CreateDSource creates
 * the dSource, with its policy and event sources, and its empty storage; Sync starts the sync state
 * machine and waits for it, as long as the child may queue for the dSource's lease and then run. If the sync fails, the undo
 * unmounts the dSource's storage from the staging host (only it: a sync that failed at its last
 * unmount leaves it mounted, and what made its mount fail is not the dSource's) and deletes the
 * dSource; the execution fails with the sync's own error (Step Functions reports a failed child as
 * States.TaskFailed, with the child's error inside the cause). Should the unmount fail, the dSource is
 * not deleted under its mount, and the unmount's error is added to the cause.
 */
export class LinkWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: LinkWorkflowProps) {
    super(scope, id);
    const { functions } = props;

    const validate = lambdaStep(this, 'ValidateLink', functions.validateLink, { resultPath: '$.link' });
    const create = lambdaStep(this, 'CreateDSource', functions.createDSource, {
      inputPath: '$.link',
      resultPath: '$.dsource',
    });
    const sync = new tasks.StepFunctionsStartExecution(this, 'Sync', {
      stateMachine: props.sync.stateMachine,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      // Without a bound the task would wait as long as the child runs; the child's own bound is known.
      taskTimeout: sfn.Timeout.duration(props.sync.maxDuration),
      input: sfn.TaskInput.fromObject({
        dsourceId: sfn.JsonPath.stringAt('$.dsource.dsourceId'),
        snapshotParameters: { resync: true },
        trigger: { kind: 'workflow', id: sfn.JsonPath.executionId },
      }),
      resultSelector: { snapshotId: sfn.JsonPath.stringAt('$.Output.snapshotId') },
      resultPath: '$.sync',
    });
    // Too many running executions in the account is the one start failure that waiting cures.
    sync.addRetry({
      errors: ['StepFunctions.ExecutionLimitExceededException'],
      interval: Duration.seconds(5),
      maxAttempts: 4,
      backoffRate: 2,
    });
    const output = new sfn.Pass(this, 'Output', {
      parameters: {
        dsourceId: sfn.JsonPath.stringAt('$.dsource.dsourceId'),
        snapshotId: sfn.JsonPath.stringAt('$.sync.snapshotId'),
      },
    });

    const failed = failWithCaughtError(this);
    const unmount = new RunCommand(this, 'UnmountStaging', {
      hostCommands: props.hostCommands,
      document: 'unmount',
      planPath: '$.dsource.unmount',
      fields: { MountPath: STAGING_FIELDS.MountPath },
    });
    const destroy = lambdaStep(this, 'DeleteDSource', functions.deleteDSource, {
      payload: sfn.TaskInput.fromObject({ dsourceId: sfn.JsonPath.stringAt('$.dsource.dsourceId') }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    const undo = undoThenFail(
      this,
      [
        [unmount, 'UnmountStaging'],
        [destroy, 'Delete'],
      ],
      props.hostCommands.noteUndoFailure,
      failed,
    );

    // A failed child's cause is its DescribeExecution answer as JSON; its Error and Cause are the
    // sync's own. Anything else (the child could not start, say) keeps the error as caught. The error
    // is the sync's before the undo runs, so that an undo failure is added to the sync's own cause.
    const childFailed = sfn.Condition.and(
      sfn.Condition.stringEquals(`${ERROR_PATH}.Error`, 'States.TaskFailed'),
      sfn.Condition.stringMatches(`${ERROR_PATH}.Cause`, '{*}'),
    );
    const parse = new sfn.Pass(this, 'ParseSyncFailure', {
      parameters: { execution: sfn.JsonPath.stringToJson(sfn.JsonPath.stringAt(`${ERROR_PATH}.Cause`)) },
      resultPath: '$.child',
    });
    const hasChildError = sfn.Condition.and(
      sfn.Condition.isPresent('$.child.execution.Error'),
      sfn.Condition.isPresent('$.child.execution.Cause'),
    );
    const useChildError = new sfn.Pass(this, 'UseSyncError', {
      parameters: {
        Error: sfn.JsonPath.stringAt('$.child.execution.Error'),
        Cause: sfn.JsonPath.stringAt('$.child.execution.Cause'),
      },
      resultPath: ERROR_PATH,
    });
    sync.addCatch(
      new sfn.Choice(this, 'IsSyncFailure')
        .when(
          childFailed,
          parse.next(
            new sfn.Choice(this, 'HasSyncError').when(hasChildError, useChildError.next(undo)).otherwise(undo),
          ),
        )
        .otherwise(undo),
      { resultPath: ERROR_PATH },
    );

    const definition = validate.next(create).next(sync).next(output).next(new sfn.Succeed(this, 'Linked'));
    this.stateMachine = new WorkflowStateMachine(this, 'Workflow', { workflow: 'link', definition }).stateMachine;
    const syncId = Stack.of(this).getLogicalId(props.sync.stateMachine.node.defaultChild as sfn.CfnStateMachine);
    const syncName = `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${syncId}"}]}]}`;
    Validations.of(this.stateMachine).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${syncName}*]`,
      reason:
        'Waiting for a sync (.sync:2) means describing and stopping its executions, whose names are not known in advance.',
    });
  }
}
