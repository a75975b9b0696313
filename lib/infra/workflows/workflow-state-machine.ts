import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { WorkflowName } from '../../core/workflow-inputs';

export interface WorkflowStateMachineProps {
  /** Which workflow this is; local mode and the API find the state machine by it. */
  readonly workflow: WorkflowName;
  /** The first state, chained to the rest. */
  readonly definition: sfn.IChainable;
  /**
   * How long execution logs are kept.
   * @default one month
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Standard state machine with Snapflow's defaults: JSONPath (the local interpreter runs nothing
 * else), every execution event logged with its data, X-Ray tracing, and `SnapflowWorkflow: <name>`
 * metadata on the CloudFormation resource.
 */
export class WorkflowStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowStateMachineProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    (this.stateMachine.node.defaultChild as sfn.CfnStateMachine).addMetadata('SnapflowWorkflow', props.workflow);
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray and CloudWatch Logs delivery actions, and ssm:GetCommandInvocation/ssm:CancelCommand, support no resource-level permissions.',
    });
  }
}
