import { CfnOutput, type Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { SnapflowFunction } from './snapflow-function';
import { SnapflowDocuments } from './ssm-documents';
import { LinkWorkflow } from './workflows/link-workflow';
import { ProvisionWorkflow } from './workflows/provision-workflow';
import { SyncWorkflow } from './workflows/sync-workflow';

export interface SnapflowStackProps extends StackProps {
  /** The engine's base URL, as the functions reach it (e.g. `http://engine.snapflow.internal:7750`). */
  readonly engineUrl: string;
  /**
   * Name of an existing Secrets Manager secret whose string is the engine's API token.
   * @default a new secret with a generated token, to be configured on the engine as well
   */
  readonly engineTokenSecretName?: string;
  /**
   * How long one copy may run on a staging host; the first sync of a large tree takes longest.
   * @default 1 hour
   */
  readonly copyTimeout?: Duration;
}

/**
 * Snapflow on AWS: the link, sync and provision state machines, the functions their steps run, the SSM
 * documents their host steps run, the engine token secret, and a log group for host command output.
 */
export class SnapflowStack extends Stack {
  constructor(scope: Construct, id: string, props: SnapflowStackProps) {
    super(scope, id, props);
    if (!/^https?:\/\/[^\s/]+/.test(props.engineUrl)) {
      throw new Error(
        `engineUrl must be an http(s) URL, got ${JSON.stringify(props.engineUrl)}; set the snapflow:engineUrl context value`,
      );
    }

    const tokenSecret =
      props.engineTokenSecretName === undefined
        ? new secretsmanager.Secret(this, 'EngineToken', {
            description: 'Snapflow engine API token',
            generateSecretString: { passwordLength: 48, excludePunctuation: true },
          })
        : secretsmanager.Secret.fromSecretNameV2(this, 'EngineToken', props.engineTokenSecretName);
    Validations.of(tokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The token is shared with the engine, which has no rotation hook; rotate it on both sides together.',
    });
    const engine = { url: props.engineUrl, tokenSecret };

    const documents = new SnapflowDocuments(this, 'Documents', {
      ...(props.copyTimeout === undefined ? {} : { copyTimeout: props.copyTimeout }),
    });
    const outputLogGroup = new logs.LogGroup(this, 'CommandOutput', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const step = (id: string, handlerModule: string) =>
      new SnapflowFunction(this, id, { handlerModule }).bindEngine(engine);
    const hostCommands = {
      documents,
      outputLogGroup,
      raiseHostError: new SnapflowFunction(this, 'RaiseHostError', { handlerModule: 'raise-host-error' }),
    };

    const sync = new SyncWorkflow(this, 'Sync', {
      functions: { planSync: step('PlanSync', 'plan-sync'), recordSnapshot: step('RecordSnapshot', 'record-snapshot') },
      hostCommands,
    });
    const link = new LinkWorkflow(this, 'Link', {
      functions: {
        validateLink: step('ValidateLink', 'validate-link'),
        createDSource: step('CreateDSource', 'create-dsource'),
        deleteDSource: step('DeleteDSource', 'delete-dsource'),
      },
      sync,
    });
    const provision = new ProvisionWorkflow(this, 'Provision', {
      functions: {
        planProvision: step('PlanProvision', 'plan-provision'),
        createVdb: step('CreateVdb', 'create-vdb'),
        configureVdb: step('ConfigureVdb', 'configure-vdb'),
        deleteVdb: step('DeleteVdb', 'delete-vdb'),
      },
      hostCommands,
    });

    new CfnOutput(this, 'LinkStateMachineArn', { value: link.stateMachine.stateMachineArn });
    new CfnOutput(this, 'SyncStateMachineArn', { value: sync.stateMachine.stateMachineArn });
    new CfnOutput(this, 'ProvisionStateMachineArn', { value: provision.stateMachine.stateMachineArn });
    new CfnOutput(this, 'EngineTokenSecretArn', { value: tokenSecret.secretArn });
    new CfnOutput(this, 'CommandOutputLogGroup', { value: outputLogGroup.logGroupName });
  }
}
