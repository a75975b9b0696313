import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** The repository root, where `functions/` and the lock file are. */
const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export interface SnapflowFunctionProps {
  /** The handler module's name under `functions/`, without extension, e.g. `plan-sync`. */
  readonly handlerModule: string;
  /**
   * How long one invocation may run. Steps only call the engine; host commands run elsewhere.
   * @default 30 seconds
   */
  readonly timeout?: Duration;
  /**
   * How long the function's logs are kept.
   * @default one month
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A Lambda function running one handler module from `functions/`, with Snapflow's defaults: Node.js 22
 * on ARM64, its own log group, and a bundle that keeps class and function names (error names must
 * survive) and source maps for readable stack traces. The function's role may write its own logs and
 * nothing else until a `bind…` method grants more.
 *
 * The CloudFormation resource carries `SnapflowHandler: functions/<module>.ts` metadata, by which local
 * mode runs the same module for this function's tasks.
 */
export class SnapflowFunction extends NodejsFunction {
  /** The handler module, relative to the repository root, e.g. `functions/plan-sync.ts`. */
  readonly handlerPath: string;

  constructor(scope: Construct, id: string, props: SnapflowFunctionProps) {
    const handlerPath = `functions/${props.handlerModule}.ts`;
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of the managed AWSLambdaBasicExecutionRole, which may write to any log group.
    const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: path.join(PROJECT_ROOT, handlerPath),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: 256,
      logGroup,
      role,
      environment: { NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        keepNames: true,
        minify: false,
        sourceMap: true,
        // The Node.js 22 runtime provides AWS SDK v3.
        externalModules: ['@aws-sdk/*'],
      },
    });
    this.handlerPath = handlerPath;
    const resource = this.node.defaultChild as lambda.CfnFunction;
    resource.addMetadata('SnapflowHandler', handlerPath);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime Snapflow is built and tested for; Node.js 24 is not validated yet.',
    });
    // Step Functions' Lambda tasks are granted the function and its versions (`<arn>:*`); the finding
    // lands on each state machine's policy, so it is acknowledged stack-wide for this function only.
    Validations.of(Stack.of(this)).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(resource)}.Arn>:*]`,
      reason: `Invoking ${handlerPath} in any of its versions is the same permission as invoking the function.`,
    });
  }

  /**
   * Points the function at the engine: sets ENGINE_URL and ENGINE_TOKEN_SECRET_ARN, and lets the
   * function read the token secret.
   */
  bindEngine(engine: { readonly url: string; readonly tokenSecret: secretsmanager.ISecret }): this {
    this.addEnvironment('ENGINE_URL', engine.url);
    this.addEnvironment('ENGINE_TOKEN_SECRET_ARN', engine.tokenSecret.secretArn);
    engine.tokenSecret.grantRead(this);
    return this;
  }
}
