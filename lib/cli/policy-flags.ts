import { presentPolicy } from '../api/policy-body';
import type { EventSource } from '../core/model';
import { DEFAULT_SNAPSHOT_POLICY, RETENTION_PERIODS } from '../core/snapshot-policy';
import { jobVerb } from './api-verbs';
import { CliError, type FlagSpec, type FlagValues, optionalFlag, type Verb } from './cli-command';

/** A snapshot policy as the API answers it and takes it. */
export type WirePolicy = ReturnType<typeof presentPolicy>;

const KEEP_FLAGS = [
  ...RETENTION_PERIODS.map((period) => [`keep-${period}`, period] as const),
  ['keep-at-least', 'keep_at_least'] as const,
];

/** The flags that set a snapshot policy, for `dsource link`, `vdb provision` and `set-policy`. */
export const policyFlags: Readonly<Record<string, FlagSpec>> = {
  cron: { type: 'string' },
  'time-zone': { type: 'string' },
  'no-schedule': { type: 'boolean' },
  ...Object.fromEntries(KEEP_FLAGS.map(([flag]) => [flag, { type: 'string' }])),
};

/** The policy flags as the usage shows them. */
export const POLICY_USAGE = `[--cron EXPR [--time-zone TZ] | --no-schedule] [${KEEP_FLAGS.map(([flag]) => `--${flag} N`).join('] [')}]`;

/** The flags that set a dSource's event sources. */
export const eventSourceFlags: Readonly<Record<string, FlagSpec>> = {
  'event-source': { type: 'string', multiple: true },
  'no-event-sources': { type: 'boolean' },
};

/** The event source flags as the usage shows them. */
export const EVENT_SOURCE_USAGE = '[--event-source s3://BUCKET/PREFIX]… [--no-event-sources]';

/** The policy of a dataset made without one, as the API would store it: the start for the flags of a link or provision. */
export const DEFAULT_WIRE_POLICY: WirePolicy = presentPolicy(DEFAULT_SNAPSHOT_POLICY);

/**
 * The policy the flags make of `current`, or undefined when no policy flag is given. Flags change only
 * what they name: `--cron` sets the schedule (in `--time-zone`, else the current schedule's zone, else
 * UTC), `--time-zone` alone moves the current schedule to another zone, `--no-schedule` removes it,
 * and each `--keep-…` sets one count, the others staying as they are.
 * @throws CliError for a count that is not a whole number, or flags that contradict each other
 */
export function policyFromFlags(values: FlagValues, current: WirePolicy): WirePolicy | undefined {
  const cron = optionalFlag(values, 'cron');
  const timeZone = optionalFlag(values, 'time-zone');
  const noSchedule = values['no-schedule'] === true;
  const counts = KEEP_FLAGS.flatMap(([flag, field]) => {
    const given = optionalFlag(values, flag);
    if (given === undefined) return [];
    if (!/^\d+$/.test(given)) throw new CliError(`--${flag} must be a whole number, not ${JSON.stringify(given)}`);
    return [[field, Number(given)] as const];
  });
  if (cron === undefined && timeZone === undefined && !noSchedule && counts.length === 0) return undefined;
  if (noSchedule && (cron !== undefined || timeZone !== undefined))
    throw new CliError('--no-schedule removes the schedule; give it without --cron and --time-zone');
  if (cron === undefined && timeZone !== undefined && current.schedule === null)
    throw new CliError('--time-zone needs --cron: there is no schedule to move to another time zone');

  let schedule = current.schedule;
  if (noSchedule) schedule = null;
  else if (cron !== undefined) schedule = { cron, time_zone: timeZone ?? current.schedule?.time_zone ?? 'UTC' };
  else if (timeZone !== undefined && schedule !== null) schedule = { ...schedule, time_zone: timeZone };
  return { schedule, retention: { ...current.retention, ...Object.fromEntries(counts) } };
}

/**
 * The event sources the flags give, or undefined when none of their flags is given: each
 * `--event-source s3://BUCKET/PREFIX` adds one; `--no-event-sources` gives none.
 * @throws CliError for a value that is not an s3:// URL with a bucket
 */
export function eventSourcesFromFlags(values: FlagValues): EventSource[] | undefined {
  const given = values['event-source'] as string[] | undefined;
  if (values['no-event-sources'] === true) {
    if (given !== undefined)
      throw new CliError('--no-event-sources removes every event source; give no --event-source');
    return [];
  }
  return given?.map((url) => {
    const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
    if (match === null) throw new CliError(`--event-source must be s3://BUCKET/PREFIX, not ${JSON.stringify(url)}`);
    return { kind: 's3', bucket: match[1] as string, prefix: match[2] as string };
  });
}

/** `retention <id> [--dry-run]` of a dSource or VDB: applies its policy's retention to its snapshots. */
export function retentionVerb(operationId: 'applyDSourceRetention' | 'applyVdbRetention', idName: string): Verb {
  return jobVerb({
    operationId,
    summary:
      'Apply the retention policy: delete the snapshots it does not keep, and say why for each; --dry-run deletes nothing',
    usage: `<${idName}> [--dry-run]`,
    positionals: [idName],
    flags: { 'dry-run': { type: 'boolean' } },
    body: (values) => ({ dry_run: values['dry-run'] === true }),
  });
}
