import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CronSchedule } from '../../core/cron-schedule';
import { SnapflowFunction } from '../snapflow-function';

/**
 * When retention runs unless told otherwise: every day at 03:15 UTC, as a 5-field cron expression
 * read in UTC. Local mode's scheduler runs retention at the same time.
 */
export const RETENTION_CRON = '15 3 * * *';

/** Props of {@link RetentionTrigger}. */
export interface RetentionTriggerProps {
  /** The `retention` workflow's state machine. */
  readonly retention: sfn.IStateMachine;
  /** Where the `run-retention` function lists datasets. */
  readonly engine: { readonly url: string; readonly tokenSecret: secretsmanager.ISecret };
  /**
   * When retention runs.
   * @default every day at 03:15 UTC ({@link RETENTION_CRON})
   */
  readonly schedule?: events.Schedule;
}

/**
 * Scheduled retention: a rule that invokes the `run-retention` function daily, which starts the
 * `retention` workflow (not a dry run) for every dSource and VDB. Each run applies that dataset's
 * own policy; its job id comes from the dataset and the scheduled time, so a repeated invocation
 * starts nothing new.
 *
 * The function may read the engine token secret and start executions of the retention state
 * machine; nothing else.
 */
export class RetentionTrigger extends Construct {
  readonly runner: SnapflowFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RetentionTriggerProps) {
    super(scope, id);
    this.runner = new SnapflowFunction(this, 'RunRetention', { handlerModule: 'run-retention' }).bindEngine(
      props.engine,
    );
    this.runner.addEnvironment('RETENTION_STATE_MACHINE_ARN', props.retention.stateMachineArn);
    props.retention.grantStartExecution(this.runner);
    this.rule = new events.Rule(this, 'Daily', {
      description: "Snapflow: apply every dataset's retention policy",
      schedule:
        props.schedule ?? events.Schedule.expression(CronSchedule.parse(RETENTION_CRON, 'UTC').eventBridgeExpression()),
      targets: [new targets.LambdaFunction(this.runner)],
    });
  }
}
