import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { executionEndedPattern } from '../../core/event-patterns';
import { SnapflowFunction } from '../snapflow-function';
import { cdkEventPattern } from './cdk-event-pattern';

/** Props of {@link ScheduleTriggers}. */
export interface ScheduleTriggersProps {
  /** What a dSource's schedule starts. */
  readonly sync: sfn.IStateMachine;
  /** What a VDB's schedule starts. */
  readonly snapshotVdb: sfn.IStateMachine;
  /**
   * The workflows that create or delete datasets (link, provision, delete-dsource, delete-vdb): when
   * an execution of one ends, its dataset's schedule is made to match the engine.
   */
  readonly datasetWorkflows: readonly sfn.IStateMachine[];
  /** Where the `apply-schedules` function reads datasets and their policies. */
  readonly engine: { readonly url: string; readonly tokenSecret: secretsmanager.ISecret };
}

/**
 * Snapshot schedules on AWS: an EventBridge Scheduler schedule group holding one schedule per
 * dataset whose policy has a schedule (`lib/adapters/scheduler-schedules.ts` writes them), and the
 * role Scheduler takes to run them, which may start executions of the sync and snapshot-vdb state
 * machines and nothing else, and which only Scheduler acting for this account's group may assume.
 *
 * Schedules follow the datasets: the `apply-schedules` function runs whenever an execution of a
 * workflow that creates or deletes a dataset ends (Step Functions' own status-change event), and
 * makes that dataset's schedule match the engine (`reconcileSchedule`). A function that changes
 * policies (the API's) calls {@link bindScheduler} to write schedules itself. Deleting the stack
 * deletes the group with its schedules, which start nothing once the state machines are gone.
 */
export class ScheduleTriggers extends Construct {
  readonly group: scheduler.ScheduleGroup;
  /** The role the schedules run with. */
  readonly role: iam.Role;
  readonly applySchedules: SnapflowFunction;
  readonly workflowEndedRule: events.Rule;
  private readonly targetArns: { sync: string; 'snapshot-vdb': string };

  constructor(scope: Construct, id: string, props: ScheduleTriggersProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.group = new scheduler.ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'SchedulerRole', {
      description: 'Snapflow: EventBridge Scheduler starts scheduled syncs and VDB snapshots',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.group.scheduleGroupArn },
        },
      }),
    });
    props.sync.grantStartExecution(this.role);
    props.snapshotVdb.grantStartExecution(this.role);
    this.targetArns = { sync: props.sync.stateMachineArn, 'snapshot-vdb': props.snapshotVdb.stateMachineArn };

    this.applySchedules = this.bindScheduler(
      new SnapflowFunction(this, 'ApplySchedules', { handlerModule: 'apply-schedules' }).bindEngine(props.engine),
    );
    this.workflowEndedRule = new events.Rule(this, 'DatasetWorkflowEnded', {
      description: 'Snapflow: when a workflow that creates or deletes a dataset ends, its schedule follows',
      eventPattern: cdkEventPattern(
        executionEndedPattern(props.datasetWorkflows.map((workflow) => workflow.stateMachineArn)),
      ),
      targets: [new targets.LambdaFunction(this.applySchedules)],
    });
  }

  /**
   * Lets a function create, update and delete the schedules of the group (and pass the Scheduler
   * role to them), and tells it where they go: SCHEDULE_GROUP_NAME, SCHEDULER_ROLE_ARN and
   * SCHEDULE_TARGET_ARNS, which `schedulerSettingsFromEnv` reads.
   */
  bindScheduler<F extends lambda.Function>(fn: F): F {
    fn.addEnvironment('SCHEDULE_GROUP_NAME', this.group.scheduleGroupName);
    fn.addEnvironment('SCHEDULER_ROLE_ARN', this.role.roleArn);
    fn.addEnvironment('SCHEDULE_TARGET_ARNS', Stack.of(this).toJsonString(this.targetArns));
    this.group.grants.writeSchedules(fn);
    this.group.grants.deleteSchedules(fn);
    this.role.grantPassRole(fn.grantPrincipal);
    // Schedules are named after datasets, which come and go at run time; the grant stops at the group.
    Validations.of(Stack.of(this)).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.group.scheduleGroupName}/*]`,
      reason: `Each dataset's schedule is created and deleted at run time under its own name, in the ${this.group.scheduleGroupName} group only.`,
    });
    return fn;
  }
}
