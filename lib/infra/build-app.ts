import { App, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SnapflowStack } from './snapflow-stack';
import { s3EventBucketsFromContext } from './triggers/event-triggers';

/** The engine URL when neither the caller nor the `snapflow:engineUrl` context gives one. */
export const DEFAULT_ENGINE_URL = 'http://engine.snapflow.internal:7750';

/** The stack's construct id, which is also its CloudFormation name. */
export const STACK_NAME = 'Snapflow';

export interface BuildSnapflowAppOptions {
  /** Bundle the functions with esbuild; off for tests and local mode, which run the modules directly. */
  readonly bundle: boolean;
  /** Run CDK's built-in CloudFormation validation at synth. */
  readonly validation: boolean;
  /**
   * Check the app against cdk-nag's AWS Solutions rules at synth.
   * @default false
   */
  readonly nag?: boolean;
  /**
   * The engine's base URL.
   * @default the `snapflow:engineUrl` context value, else {@link DEFAULT_ENGINE_URL}
   */
  readonly engineUrl?: string;
  /**
   * CDK context values, as cdk.json would give them (e.g. `snapflow:copyTimeoutSeconds`).
   * @default none
   */
  readonly context?: Record<string, unknown>;
  /**
   * Where synth writes the cloud assembly.
   * @default what the CDK CLI asks for, else a temporary directory
   */
  readonly outdir?: string;
}

/**
 * Builds the Snapflow CDK app and stack in-process: `bin/app.ts` synthesizes it for deployment, local
 * mode takes its state machine definitions and documents from it, and tests assert on it.
 *
 * Context values (cdk.json or `cdk -c`): `snapflow:engineUrl`, `snapflow:engineTokenSecretName` (an
 * existing secret holding the engine token), `snapflow:copyTimeoutSeconds` and
 * `snapflow:s3EventBuckets` (buckets whose "Object Created" events start syncs: a JSON list, or names
 * separated by commas).
 */
export function buildSnapflowApp(options: BuildSnapflowAppOptions): { app: App; stack: SnapflowStack } {
  const app = new App({
    builtinCloudFormationValidation: options.validation,
    ...(options.outdir === undefined ? {} : { outdir: options.outdir }),
    context: {
      ...options.context,
      // An empty list of stacks to bundle makes NodejsFunction skip esbuild.
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  if (options.nag === true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const engineUrl = options.engineUrl ?? app.node.tryGetContext('snapflow:engineUrl') ?? DEFAULT_ENGINE_URL;
  const copyTimeoutSeconds: unknown = app.node.tryGetContext('snapflow:copyTimeoutSeconds');
  if (copyTimeoutSeconds !== undefined && !Number.isInteger(Number(copyTimeoutSeconds))) {
    throw new Error(
      `snapflow:copyTimeoutSeconds must be a whole number of seconds, got ${JSON.stringify(copyTimeoutSeconds)}`,
    );
  }
  const stack = new SnapflowStack(app, STACK_NAME, {
    engineUrl,
    engineTokenSecretName: app.node.tryGetContext('snapflow:engineTokenSecretName'),
    ...(copyTimeoutSeconds === undefined ? {} : { copyTimeout: Duration.seconds(Number(copyTimeoutSeconds)) }),
    s3EventBuckets: s3EventBucketsFromContext(app.node.tryGetContext('snapflow:s3EventBuckets')),
    description: 'Snapflow: snapshots and thin clones of Unix directory trees',
  });
  return { app, stack };
}
