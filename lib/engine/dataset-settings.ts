import { ErrorNames, SnapflowError } from '../core/errors';
import type { EventSource } from '../core/model';
import {
  DEFAULT_SNAPSHOT_POLICY,
  parseSnapshotPolicy,
  parseSnapshotRetention,
  type SnapshotPolicy,
  type SnapshotRetentionInput,
} from '../core/snapshot-policy';
import { validate } from '../core/validate';
import { eventSourceSchema } from '../core/workflow-inputs';
import { parseRequest } from './validate-request';

/**
 * The policy of a dSource created without one: {@link DEFAULT_SNAPSHOT_POLICY} (snapshots on demand,
 * default retention), as a copy the engine may store.
 */
export function defaultDSourcePolicy(): SnapshotPolicy {
  return structuredClone(DEFAULT_SNAPSHOT_POLICY) as SnapshotPolicy;
}

/**
 * The policy of a VDB created without one: no schedule (a VDB is snapshotted when asked, or by the
 * workflows that change it), and the default retention. Spelled out rather than taken whole from
 * {@link DEFAULT_SNAPSHOT_POLICY}, so that a schedule added to the dSource default never reaches VDBs.
 */
export function defaultVdbPolicy(): SnapshotPolicy {
  return { schedule: null, retention: { ...DEFAULT_SNAPSHOT_POLICY.retention } };
}

/**
 * A policy as given to a create or a settings update, validated and with defaults filled in: what the
 * engine stores, so that a later change of a default never changes a stored policy.
 *
 * @param fallback The policy when none is given.
 * @throws ValidationError naming the field under `policy`, e.g. `policy.schedule.cron`
 */
export function resolvePolicy(value: unknown, fallback: () => SnapshotPolicy): SnapshotPolicy {
  return value === undefined ? fallback() : parsePolicy(value);
}

/**
 * A policy given to replace a stored one, validated and with defaults filled in.
 *
 * @throws ValidationError naming the field under `policy`, e.g. `policy.retention`
 */
export function parsePolicy(value: unknown): SnapshotPolicy {
  return parseSnapshotPolicy(value, 'policy');
}

/**
 * Event sources as given, validated one by one against `eventSourceSchema`; the same bucket and prefix
 * twice is refused, since it would start two syncs for one event.
 *
 * @throws ValidationError naming the field, e.g. `eventSources.1.bucket`
 */
export function parseEventSources(value: unknown): EventSource[] {
  if (!Array.isArray(value))
    throw new SnapflowError(ErrorNames.Validation, 'eventSources must be of type array', {
      field: 'eventSources',
      action: 'Give eventSources as a list of {kind: "s3", bucket, prefix}, or [] for none.',
    });
  const sources = value.map((source, index) =>
    validate<EventSource>(eventSourceSchema, source, `eventSources.${index}`),
  );
  sources.forEach((source, index) => {
    const earlier = sources.findIndex(
      (other) => other.kind === source.kind && other.bucket === source.bucket && other.prefix === source.prefix,
    );
    if (earlier === index) return;
    throw new SnapflowError(
      ErrorNames.Validation,
      `eventSources.${index} repeats eventSources.${earlier} (${source.kind} bucket ${source.bucket}, prefix ${JSON.stringify(source.prefix)})`,
      { field: `eventSources.${index}`, action: `Remove eventSources.${index}; each bucket and prefix is given once.` },
    );
  });
  return sources.map(({ kind, bucket, prefix }) => ({ kind, bucket, prefix }));
}

/**
 * A change to one snapshot's retention, validated with parseSnapshotRetention and with fields named as
 * the caller sent them (`expiresAt`, `retainForever`). `expiresAt` comes back as the engine writes
 * timestamps (`2025-06-30T00:00:00.000Z`), `null` when the expiry is to be removed.
 *
 * @throws ValidationError naming the field at fault
 */
export function parseRetentionChange(value: unknown): SnapshotRetentionInput {
  const change = parseRequest((input, root) => parseSnapshotRetention(input, root), value);
  if (typeof change.expiresAt !== 'string') return change;
  return { ...change, expiresAt: new Date(Date.parse(change.expiresAt)).toISOString() };
}
