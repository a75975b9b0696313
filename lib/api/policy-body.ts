import { ErrorNames, isSnapflowError, SnapflowError } from '../core/errors';
import type { EventSource } from '../core/model';
import {
  parseSnapshotPolicy,
  parseSnapshotRetention,
  type SnapshotPolicy,
  type SnapshotRetentionInput,
  snapshotPolicySchema,
  snapshotRetentionSchema,
} from '../core/snapshot-policy';
import { camelKeysDeep, snakeCase } from './json-case';

/**
 * Policies and snapshot retention as requests give them (snake_case) turned into the core's terms,
 * checked with the core's own parsers. Their errors are put back in the request's terms, so a bad
 * time zone is reported as `body.policy.schedule.time_zone`, the field the caller sent.
 */

/** Field names of the policy and retention schemas, however deep, that differ in snake_case. */
const CAMEL_FIELDS = [...new Set([...fieldNames(snapshotPolicySchema), ...fieldNames(snapshotRetentionSchema)])].filter(
  (name) => snakeCase(name) !== name,
);

/**
 * A snapshot policy from a request, checked, with defaults filled in.
 * @param field Where the policy is in the request, e.g. `body.policy`.
 * @throws ValidationError naming the request's field, e.g. `body.policy.schedule.cron`
 */
export function policyFromBody(value: unknown, field: string): SnapshotPolicy {
  return inRequestTerms(() => parseSnapshotPolicy(camelKeysDeep(value), field));
}

/**
 * The settings `PATCH /dsources/{id}` or `PATCH /vdbs/{id}` changes, in the engine's terms.
 * @throws ValidationError when the body names no setting, or for a policy the core refuses
 */
export function datasetSettingsFromBody(body: Readonly<Record<string, unknown>>): {
  policy?: SnapshotPolicy;
  eventSources?: EventSource[];
} {
  if (body.policy === undefined && body.event_sources === undefined)
    throw new SnapflowError(ErrorNames.Validation, 'body names no setting to change', {
      field: 'body',
      action: 'Give policy (a dSource may also take event_sources).',
    });
  return {
    ...(body.policy === undefined ? {} : { policy: policyFromBody(body.policy, 'body.policy') }),
    ...(body.event_sources === undefined ? {} : { eventSources: body.event_sources as EventSource[] }),
  };
}

/**
 * A change to one snapshot's retention from `PATCH /snapshots/{id}`, in the engine's terms.
 * @throws ValidationError naming the request's field, e.g. `body.expires_at`
 */
export function snapshotRetentionFromBody(body: Readonly<Record<string, unknown>>): SnapshotRetentionInput {
  return inRequestTerms(() => parseSnapshotRetention(camelKeysDeep(body), 'body'));
}

/** A stored policy as the API answers it. */
export function presentPolicy(policy: SnapshotPolicy) {
  const { keepAtLeast, ...periods } = policy.retention;
  return {
    schedule: policy.schedule === null ? null : { cron: policy.schedule.cron, time_zone: policy.schedule.timeZone },
    retention: { ...periods, keep_at_least: keepAtLeast },
  };
}

/** Runs `parse`, rewording a validation error's field, message and action in the request's snake_case. */
function inRequestTerms<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!isSnapflowError(error, ErrorNames.Validation)) throw error;
    const reword = (text: string) =>
      CAMEL_FIELDS.reduce((result, name) => result.replace(new RegExp(`\\b${name}\\b`, 'g'), snakeCase(name)), text);
    throw new SnapflowError(
      ErrorNames.Validation,
      reword(error.message),
      {
        action: reword(error.action),
        ...(error.field === undefined ? {} : { field: reword(error.field) }),
      },
      { cause: error },
    );
  }
}

function fieldNames(schema: object): string[] {
  return Object.entries(schema).flatMap(([key, value]) => {
    if (value === null || typeof value !== 'object') return [];
    const nested = Array.isArray(value) ? value.flatMap((item) => fieldNames(item)) : fieldNames(value);
    return key === 'properties' ? [...Object.keys(value), ...nested] : nested;
  });
}
