import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SOURCE_CHANGED_PATTERN, s3ObjectCreatedPattern } from '../../core/event-patterns';
import { eventSourceSchema } from '../../core/workflow-inputs';
import { SnapflowFunction } from '../snapflow-function';
import { cdkEventPattern } from './cdk-event-pattern';

/** Props of {@link EventTriggers}. */
export interface EventTriggersProps {
  /** The state machine the events start. */
  readonly sync: sfn.IStateMachine;
  /** Where the function reads dSources, source configs and environments. */
  readonly engine: { readonly url: string; readonly tokenSecret: secretsmanager.ISecret };
  /**
   * Buckets whose S3 "Object Created" events may start syncs (of the dSources whose event sources
   * name the bucket and a prefix of the key). Each bucket must have EventBridge notifications on.
   * @default none: no S3 rule
   */
  readonly s3EventBuckets?: readonly string[];
}

/**
 * Syncs started by events on the default bus: a rule for `snapflow` "Source Data Changed" events
 * and, when buckets are given, one for their S3 "Object Created" events, with the same patterns
 * (`lib/core/event-patterns.ts`) the local event intake matches with. Both invoke the
 * `dispatch-event` function, which reads the engine's dSources, source configs and environments,
 * picks the dSources the event names (`syncsForEvent`) and starts a sync of each, named after the
 * event and the dSource so a duplicate delivery starts nothing new.
 *
 * The function may read the engine token secret and start executions of the sync state machine;
 * nothing else.
 */
export class EventTriggers extends Construct {
  readonly dispatcher: SnapflowFunction;
  readonly sourceChangedRule: events.Rule;
  /** Present when buckets were given. */
  readonly objectCreatedRule?: events.Rule;

  constructor(scope: Construct, id: string, props: EventTriggersProps) {
    super(scope, id);
    this.dispatcher = new SnapflowFunction(this, 'DispatchEvent', { handlerModule: 'dispatch-event' }).bindEngine(
      props.engine,
    );
    this.dispatcher.addEnvironment('SYNC_STATE_MACHINE_ARN', props.sync.stateMachineArn);
    props.sync.grantStartExecution(this.dispatcher);
    const target = new targets.LambdaFunction(this.dispatcher);

    this.sourceChangedRule = new events.Rule(this, 'SourceChanged', {
      description: 'Snapflow: a "Source Data Changed" event starts a sync of the dSource it names',
      eventPattern: cdkEventPattern(SOURCE_CHANGED_PATTERN),
      targets: [target],
    });
    const buckets = props.s3EventBuckets ?? [];
    if (buckets.length > 0) {
      this.objectCreatedRule = new events.Rule(this, 'ObjectCreated', {
        description: 'Snapflow: an S3 object created under a dSource event source starts a sync of that dSource',
        eventPattern: cdkEventPattern(s3ObjectCreatedPattern(buckets)),
        targets: [target],
      });
    }
  }
}

const bucketName = new RegExp(eventSourceSchema.properties.bucket.pattern);

/**
 * The `snapflow:s3EventBuckets` context value as a list of bucket names: a JSON list (cdk.json) or
 * names separated by commas (`cdk -c snapflow:s3EventBuckets=a,b`).
 * @throws Error naming the value when it holds something that is not a bucket name
 */
export function s3EventBucketsFromContext(value: unknown): string[] {
  if (value === undefined) return [];
  const names = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [value];
  const buckets = names.map((name) => (typeof name === 'string' ? name.trim() : name)).filter((name) => name !== '');
  const bad = buckets.find((name) => typeof name !== 'string' || !bucketName.test(name));
  if (bad !== undefined)
    throw new Error(
      `snapflow:s3EventBuckets must list S3 bucket names, got ${JSON.stringify(bad)} in ${JSON.stringify(value)}`,
    );
  return [...new Set(buckets as string[])];
}
