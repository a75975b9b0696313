import type { FromSchema } from 'json-schema-to-ts';
import { formatScheduledTime } from './cron-schedule';
import { ErrorNames, SnapflowError } from './errors';
import { parseUtcTimestamp } from './snapshot-policy';

/**
 * One condition on a leaf field of an event: an exact JSON value, `{prefix}` (a string value that
 * starts with it) or `{exists}` (the field is present, or absent). These are the EventBridge
 * operators Snapflow's patterns use; {@link matchesEventPattern} refuses any other.
 */
export type PatternCondition = string | number | boolean | null | { prefix: string } | { exists: boolean };

/**
 * An EventBridge event pattern: each field holds either the conditions of a leaf (any one may
 * match) or a nested pattern for an object field (all of its fields must match).
 */
export interface EventPattern {
  readonly [field: string]: readonly PatternCondition[] | EventPattern;
}

/** An event as EventBridge rules see it: the envelope PutEvents and AWS services produce, with `detail` parsed. */
export interface EventBridgeEvent {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** `2026-11-21T10:00:00Z`: UTC, whole seconds. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** The `source` of the events Snapflow and its users put. */
export const SNAPFLOW_EVENT_SOURCE = 'snapflow';

/** The `detail-type` of the event that says a dSource's source data changed. */
export const SOURCE_CHANGED_DETAIL_TYPE = 'Source Data Changed';

/**
 * The event that starts a sync of the dSource it names: its `detail` holds `dsourceId`, or
 * `sourceHost` and `sourcePath` (see `syncsForEvent`). The CDK rule and the local event intake both
 * match with this one pattern.
 */
export const SOURCE_CHANGED_PATTERN = {
  source: [SNAPFLOW_EVENT_SOURCE],
  'detail-type': [SOURCE_CHANGED_DETAIL_TYPE],
} as const satisfies EventPattern;

/**
 * S3 "Object Created" events of the given buckets, which S3 sends to EventBridge once a bucket has
 * EventBridge notifications turned on. Which keys start a sync is each dSource's `eventSources`.
 * @throws SnapflowError ValidationError for an empty list: EventBridge refuses a field with no condition.
 */
export function s3ObjectCreatedPattern(buckets: readonly string[]): EventPattern {
  if (buckets.length === 0)
    throw new SnapflowError(ErrorNames.Validation, 's3ObjectCreatedPattern needs at least one bucket', {
      field: 'buckets',
      action: 'Give the buckets whose Object Created events start syncs, or make no S3 rule.',
    });
  return { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: [...buckets] } } };
}

/**
 * Step Functions' own event when an execution of one of the given state machines ends, however it
 * ended. Step Functions sends it to the default bus of its account by itself.
 */
export function executionEndedPattern(stateMachineArns: readonly string[]): EventPattern {
  return {
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    detail: { stateMachineArn: [...stateMachineArns], status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] },
  };
}

/**
 * Whether `event` matches `pattern` as EventBridge decides it: every field of the pattern must match
 * (AND), and a leaf matches when any of its conditions does (OR). A field the event lacks matches
 * only `{exists: false}`. When the event's value is an array, the leaf matches if any element
 * does. Values compare as JSON values, case and type included (`"5"` is not `5`); `{prefix}` matches
 * strings only; `{exists: true}` matches leaves only (any value but an object, `null` included).
 * An array of objects under a nested pattern matches if one of its elements does (EventBridge
 * flattens such arrays and can also match across elements; Snapflow's patterns never look inside
 * one).
 *
 * @throws SnapflowError UnsupportedOperationError when the pattern uses another operator, so a pattern
 *   this matcher cannot honour fails loudly instead of never matching; ValidationError for a leaf
 *   with no condition.
 */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  checkPattern(pattern, '');
  return matchesObject(pattern, event);
}

function matchesObject(pattern: EventPattern, value: unknown): boolean {
  if (Array.isArray(value)) return value.some((item) => matchesObject(pattern, item));
  const fields = isObject(value) ? value : {};
  return Object.entries(pattern).every(([name, condition]) => {
    const present = Object.hasOwn(fields, name);
    const field = fields[name];
    if (isConditionList(condition)) return condition.some((one) => matchesCondition(one, present, field));
    return matchesObject(condition, present ? field : undefined);
  });
}

function matchesCondition(condition: PatternCondition, present: boolean, value: unknown): boolean {
  if (condition !== null && typeof condition === 'object') {
    if ('exists' in condition) return condition.exists ? present && !isObject(value) : !present;
    return present && leaves(value).some((leaf) => typeof leaf === 'string' && leaf.startsWith(condition.prefix));
  }
  return present && leaves(value).some((leaf) => leaf === condition);
}

function leaves(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function checkPattern(pattern: EventPattern, at: string): void {
  for (const [name, condition] of Object.entries(pattern)) {
    const field = at === '' ? name : `${at}.${name}`;
    if (!isConditionList(condition)) {
      checkPattern(condition, field);
      continue;
    }
    if (condition.length === 0)
      throw new SnapflowError(ErrorNames.Validation, `event pattern field ${field} has no condition`, {
        field,
        action: 'Give the field at least one value, or leave it out of the pattern.',
      });
    for (const one of condition) {
      if (one === null || typeof one !== 'object') continue;
      const keys = Object.keys(one);
      const supported =
        keys.length === 1 &&
        (('prefix' in one && typeof one.prefix === 'string') || ('exists' in one && typeof one.exists === 'boolean'));
      if (!supported)
        throw new SnapflowError(
          ErrorNames.UnsupportedOperation,
          `event pattern field ${field} uses ${JSON.stringify(one)}, which Snapflow's event matcher does not implement`,
          {
            field,
            action:
              'Use exact values, {"prefix": "…"} or {"exists": true|false}, or implement the operator in matchesEventPattern with tests from the EventBridge documentation.',
          },
        );
    }
  }
}

function isConditionList(value: readonly PatternCondition[] | EventPattern): value is readonly PatternCondition[] {
  return Array.isArray(value);
}

/** Whether a JSON value is an object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * One entry of an EventBridge `PutEvents` request, as the AWS CLI and SDKs send it. `Detail` is a
 * JSON object written as a string; `Time` is an ISO 8601 timestamp or seconds since the epoch.
 */
export const putEventsEntrySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['Source', 'DetailType', 'Detail'],
  properties: {
    Source: { type: 'string', minLength: 1, maxLength: 256 },
    DetailType: { type: 'string', minLength: 1, maxLength: 256 },
    Detail: { type: 'string', minLength: 2, maxLength: 262_144 },
    Resources: { type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 2048 } },
    Time: { anyOf: [{ type: 'string', maxLength: 64 }, { type: 'number' }] },
    EventBusName: { type: 'string', minLength: 1, maxLength: 1600 },
  },
} as const;

export type PutEventsEntry = FromSchema<typeof putEventsEntrySchema>;

/** The name of the bus Snapflow's rules are on, as PutEvents entries may name it. */
export const DEFAULT_EVENT_BUS = 'default';

/** Whether an entry goes to the default bus: it names no bus, `default`, or the default bus's ARN. */
export function isForDefaultBus(entry: PutEventsEntry): boolean {
  const bus = entry.EventBusName;
  return bus === undefined || bus === DEFAULT_EVENT_BUS || bus.endsWith(`:event-bus/${DEFAULT_EVENT_BUS}`);
}

/** What EventBridge adds to an entry when it accepts it. */
export interface EventEnvelope {
  id: string;
  /** When the entry was put; the event's time unless the entry gives its own `Time`. */
  time: Date;
  account: string;
  region: string;
}

/**
 * The event EventBridge makes of a PutEvents entry, which rules match on and targets receive.
 * @param root Dotted path of the entry in the caller's input (e.g. `body.Entries.0`), for messages.
 * @throws SnapflowError ValidationError naming `<root>.Detail` when it is not a JSON object, or
 *   `<root>.Time` when it is not a time.
 */
export function toEvent(entry: PutEventsEntry, envelope: EventEnvelope, root = 'entry'): EventBridgeEvent {
  return {
    version: '0',
    id: envelope.id,
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: envelope.account,
    // EventBridge writes an event's time as Scheduler writes a run's: UTC, whole seconds.
    time: formatScheduledTime(entry.Time === undefined ? envelope.time : entryTime(entry.Time, `${root}.Time`)),
    region: envelope.region,
    resources: [...(entry.Resources ?? [])],
    detail: parseDetail(entry.Detail, `${root}.Detail`),
  };
}

function parseDetail(text: string, field: string): Record<string, unknown> {
  let detail: unknown;
  try {
    detail = JSON.parse(text);
  } catch (error) {
    throw new SnapflowError(
      ErrorNames.Validation,
      `${field} is not JSON: ${error instanceof Error ? error.message : String(error)}`,
      { field, action: `Give ${field} as a JSON object written as a string, e.g. "{\\"dsourceId\\": \\"ds-…\\"}".` },
    );
  }
  if (!isObject(detail))
    throw new SnapflowError(ErrorNames.Validation, `${field} is JSON but not an object`, {
      field,
      action: `Give ${field} as a JSON object written as a string; EventBridge refuses other JSON values.`,
    });
  return detail;
}

function entryTime(value: string | number, field: string): Date {
  const epochMs = typeof value === 'number' ? value * 1000 : (parseUtcTimestamp(value) ?? Number.NaN);
  if (Number.isNaN(new Date(epochMs).getTime()))
    throw new SnapflowError(ErrorNames.Validation, `${field} ${JSON.stringify(value)} is not a time`, {
      field,
      action: `Give ${field} as a UTC timestamp such as 2026-11-21T10:00:00Z or as seconds since the epoch, or leave it out for now.`,
    });
  return new Date(epochMs);
}
