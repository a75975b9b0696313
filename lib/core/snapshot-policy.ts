import type { FromSchema } from 'json-schema-to-ts';
import { CronSchedule } from './cron-schedule';
import { ErrorNames, SnapflowError } from './errors';
import { validate } from './validate';

const count = { type: 'integer', minimum: 0 } as const;

/** When snapshots are taken: a 5-field cron expression read in an IANA time zone. */
export const snapshotScheduleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cron', 'timeZone'],
  properties: {
    cron: { type: 'string', maxLength: 256 },
    timeZone: { type: 'string', minLength: 1, maxLength: 64 },
  },
} as const;

/**
 * Which snapshots retention keeps: per period, how many of the most recent periods that have
 * snapshots keep their newest one; `keepAtLeast`, how many newest snapshots stay whatever the
 * periods say. A period left out keeps nothing; `keepAtLeast` left out is 1. At least one field is
 * required, so `{}` cannot be mistaken for "keep everything".
 */
export const retentionRulesSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    hourly: count,
    daily: count,
    weekly: count,
    monthly: count,
    yearly: count,
    keepAtLeast: { type: 'integer', minimum: 1 },
  },
} as const;

/**
 * A dSource's or VDB's snapshot policy as given at link time or through the API. `schedule: null`
 * takes snapshots on demand only; a missing `schedule` means the same. A missing `retention` is
 * {@link DEFAULT_RETENTION}; a given one replaces it whole.
 */
export const snapshotPolicySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    schedule: { anyOf: [snapshotScheduleSchema, { type: 'null' }] },
    retention: retentionRulesSchema,
  },
} as const;

/**
 * A change to one snapshot's own retention. `expiresAt` (a UTC timestamp) lets retention delete it
 * from then on even if a count rule would keep it, and keeps it until then; `null` removes the expiry.
 * `retainForever` keeps it whatever the policy says.
 */
export const snapshotRetentionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    expiresAt: { anyOf: [{ type: 'string', maxLength: 64 }, { type: 'null' }] },
    retainForever: { type: 'boolean' },
  },
} as const;

export type SnapshotPolicyInput = FromSchema<typeof snapshotPolicySchema>;
export type SnapshotRetentionInput = FromSchema<typeof snapshotRetentionSchema>;

/** A validated schedule. */
export interface SnapshotSchedule {
  cron: string;
  timeZone: string;
}

/** The calendar periods retention counts in. */
export const RETENTION_PERIODS = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const;
export type RetentionPeriod = (typeof RETENTION_PERIODS)[number];

const RETENTION_FIELDS = [...RETENTION_PERIODS, 'keepAtLeast'] as const;

/** Retention rules with every count present (0 = that period keeps nothing). */
export type RetentionRules = Record<RetentionPeriod, number> & { keepAtLeast: number };

/** A validated policy with defaults filled in: what the engine stores, so a later default never changes it. */
export interface SnapshotPolicy {
  schedule: SnapshotSchedule | null;
  retention: RetentionRules;
}

/**
 * The retention a policy gets when none is given: the newest snapshot of each of the 24 most recent
 * hours and 7 most recent days that have snapshots. That is fine-grained points to undo a recent
 * mistake and a week of daily points, like Delphix's default one-week retention, and nothing older
 * unless asked for, since every kept snapshot holds space. Periods without snapshots do not count,
 * so with sparse snapshots the same counts reach further back.
 */
export const DEFAULT_RETENTION: Readonly<RetentionRules> = Object.freeze({
  hourly: 24,
  daily: 7,
  weekly: 0,
  monthly: 0,
  yearly: 0,
  keepAtLeast: 1,
});

/** The policy of a dSource or VDB linked without one: snapshots on demand, default retention. */
export const DEFAULT_SNAPSHOT_POLICY: Readonly<SnapshotPolicy> = Object.freeze({
  schedule: null,
  retention: DEFAULT_RETENTION,
});

/**
 * Validates a policy and fills in defaults.
 * @param root Dotted path of the policy in the caller's input (e.g. `policy`), for messages.
 * @throws SnapflowError ValidationError naming the field at fault, e.g.
 *   `policy.schedule.cron "61 * * * *" is not a valid 5-field cron expression: Invalid value for minute: 61`.
 */
export function parseSnapshotPolicy(value: unknown, root = 'policy'): SnapshotPolicy {
  const input = validate<SnapshotPolicyInput>(snapshotPolicySchema, value, root);
  if (input.retention !== undefined && Object.keys(input.retention).length === 0)
    throw new SnapflowError(ErrorNames.Validation, `${root}.retention names no rule`, {
      field: `${root}.retention`,
      action: `Give at least one of ${RETENTION_FIELDS.join(', ')} (keepAtLeast alone keeps only that many newest snapshots), or leave ${root}.retention out for the default.`,
    });
  const schedule = input.schedule ?? null;
  if (schedule !== null) CronSchedule.parse(schedule.cron, schedule.timeZone, `${root}.schedule`);
  const retention =
    input.retention === undefined
      ? { ...DEFAULT_RETENTION }
      : {
          hourly: input.retention.hourly ?? 0,
          daily: input.retention.daily ?? 0,
          weekly: input.retention.weekly ?? 0,
          monthly: input.retention.monthly ?? 0,
          yearly: input.retention.yearly ?? 0,
          keepAtLeast: input.retention.keepAtLeast ?? 1,
        };
  return {
    schedule: schedule === null ? null : { cron: schedule.cron.trim(), timeZone: schedule.timeZone },
    retention,
  };
}

/**
 * Validates a change to one snapshot's retention.
 * @throws SnapflowError ValidationError naming the field at fault.
 */
export function parseSnapshotRetention(value: unknown, root = 'retention'): SnapshotRetentionInput {
  const input = validate<SnapshotRetentionInput>(snapshotRetentionSchema, value, root);
  if (Object.keys(input).length === 0)
    throw new SnapflowError(ErrorNames.Validation, `${root} names no field`, {
      field: root,
      action: `Give ${root}.expiresAt, ${root}.retainForever or both.`,
    });
  if (typeof input.expiresAt === 'string' && parseUtcTimestamp(input.expiresAt) === undefined)
    throw new SnapflowError(
      ErrorNames.Validation,
      `${root}.expiresAt ${JSON.stringify(input.expiresAt)} is not a UTC timestamp`,
      {
        field: `${root}.expiresAt`,
        action: `Give ${root}.expiresAt as a UTC date and time such as 2025-06-30T00:00:00Z, or null to remove the expiry.`,
      },
    );
  return input;
}

/**
 * Milliseconds since the epoch of a UTC timestamp written as `YYYY-MM-DDTHH:MM:SS[.sss]Z`, or
 * undefined when it is not one. Impossible dates (30 February) are refused, where `Date.parse`
 * would roll them over.
 */
export function parseUtcTimestamp(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/.test(text)) return undefined;
  const epochMs = Date.parse(text);
  if (Number.isNaN(epochMs) || new Date(epochMs).toISOString().slice(0, 19) !== text.slice(0, 19)) return undefined;
  return epochMs;
}

/** The time zone retention aligns calendar periods to: the schedule's, or UTC without a schedule. */
export function retentionTimeZone(policy: SnapshotPolicy): string {
  return policy.schedule?.timeZone ?? 'UTC';
}
