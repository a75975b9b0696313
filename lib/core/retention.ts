import { ErrorNames, SnapflowError } from './errors';
import { formatTable } from './format-table';
import {
  parseUtcTimestamp,
  RETENTION_PERIODS,
  type RetentionPeriod,
  type RetentionRules,
  retentionTimeZone,
  type SnapshotPolicy,
} from './snapshot-policy';
import { WallClock, type WallTime } from './wall-clock';

/** One snapshot of the dataset whose retention is decided, with what retention needs to know of it. */
export interface RetentionCandidate {
  id: string;
  /** UTC timestamp, e.g. `2024-03-10T14:00:00.000Z`. */
  createdAt: string;
  /** UTC timestamp from which the snapshot may go even if a count rule would keep it. */
  expiresAt?: string;
  retainForever?: boolean;
  /** How many VDBs and timeflows were cloned from it (the engine refuses to delete it while any are). */
  dependents: number;
}

/** Why a snapshot is kept: the safety rules, `keepAtLeast`, or a period's count. */
export type KeepRule = 'newest' | 'pinned' | 'retainForever' | 'expiresLater' | 'keepAtLeast' | RetentionPeriod;

/** A snapshot retention keeps, with every rule that keeps it. */
export interface KeptSnapshot {
  id: string;
  createdAt: string;
  /** Every rule that keeps it, in the order of {@link KEEP_RULE_ORDER}. */
  rules: KeepRule[];
  /** One sentence per rule, for people. */
  reasons: string[];
  /** Set when its expiry has passed but a safety rule still keeps it; it goes once none does. */
  expiredAt?: string;
}

/** A snapshot retention deletes: its expiry has passed, or no rule keeps it. */
export interface DeletedSnapshot {
  id: string;
  createdAt: string;
  rule: 'expired' | 'unkept';
  reason: string;
}

/**
 * What retention decided, newest snapshot first in both lists. A dry run is this decision shown
 * without acting on it; a run deletes exactly {@link RetentionDecision.delete}.
 */
export interface RetentionDecision {
  /** The time expiries were compared with. */
  now: string;
  /** The time zone calendar periods were aligned to. */
  timeZone: string;
  retention: RetentionRules;
  keep: KeptSnapshot[];
  delete: DeletedSnapshot[];
}

/** The order rules are listed in: safety rules first, then counts from finest to coarsest. */
export const KEEP_RULE_ORDER: readonly KeepRule[] = [
  'newest',
  'pinned',
  'retainForever',
  'expiresLater',
  'keepAtLeast',
  ...RETENTION_PERIODS,
];

interface Dated extends RetentionCandidate {
  createdMs: number;
  expiresMs?: number;
}

/**
 * Decides which of one dataset's snapshots retention keeps and which it deletes. Pure and
 * deterministic: the input order does not matter, and snapshots created at the same instant are
 * ordered by id.
 *
 * A snapshot is kept when any of these holds, and each that holds is listed as a reason:
 * - `newest`: it is the newest snapshot, even if expired (a run never deletes the snapshot it just took).
 * - `pinned`: a VDB or timeflow was cloned from it (`dependents > 0`), even if expired.
 * - `retainForever`: it is marked so, even if expired.
 * - `expiresLater`: its `expiresAt` is after `now`.
 * - `keepAtLeast` N: it is one of the N newest unexpired snapshots, however sparse they are.
 * - a period with count N (`hourly`, `daily`, `weekly`, `monthly`, `yearly`): it is the newest
 *   unexpired snapshot of its calendar period, and that period is one of the N most recent periods
 *   that hold an unexpired snapshot. Periods without snapshots do not count, so daily 7 keeps seven
 *   snapshots even if they are weeks apart (restic's `--keep-daily`, not sanoid's "younger than
 *   7 days"). Periods are calendar periods in the policy's time zone ({@link retentionTimeZone}):
 *   an hour is a wall-clock hour at one UTC offset (the repeated hour of a fall-back change is two
 *   periods), a day a local date, a week an ISO week (Monday to Sunday, numbered by ISO week-year),
 *   a month and a year the local month and year.
 *
 * Rules are independent: what one keeps never changes what another keeps. Every other snapshot is
 * deleted: `expired` when its `expiresAt` is at or before `now` (expired snapshots take no part in
 * the count rules, so the next newest of their period stands in), else `unkept`.
 *
 * @param snapshots One dataset's snapshots; newest is judged among them, so never mix datasets.
 * @throws SnapflowError ValidationError when an id repeats or a timestamp is not a UTC timestamp.
 */
export function decideRetention(
  snapshots: readonly RetentionCandidate[],
  policy: SnapshotPolicy,
  now: Date,
): RetentionDecision {
  const nowMs = now.getTime();
  const timeZone = retentionTimeZone(policy);
  const { retention } = policy;
  const dated = datedNewestFirst(snapshots);
  const rulesById = new Map<string, Map<KeepRule, string>>(dated.map((snapshot) => [snapshot.id, new Map()]));
  const keepFor = (snapshot: Dated, rule: KeepRule, reason: string) => rulesById.get(snapshot.id)?.set(rule, reason);
  const isExpired = (snapshot: Dated) => snapshot.expiresMs !== undefined && snapshot.expiresMs <= nowMs;

  const [newest] = dated;
  if (newest !== undefined) keepFor(newest, 'newest', 'newest snapshot');
  for (const snapshot of dated) {
    if (snapshot.dependents > 0)
      keepFor(snapshot, 'pinned', `pinned by ${snapshot.dependents} clone${snapshot.dependents === 1 ? '' : 's'}`);
    if (snapshot.retainForever === true) keepFor(snapshot, 'retainForever', 'retained forever');
    if (snapshot.expiresMs !== undefined && !isExpired(snapshot))
      keepFor(snapshot, 'expiresLater', `kept until it expires at ${snapshot.expiresAt}`);
  }

  const unexpired = dated.filter((snapshot) => !isExpired(snapshot));
  for (const snapshot of unexpired.slice(0, retention.keepAtLeast))
    keepFor(
      snapshot,
      'keepAtLeast',
      `one of the ${retention.keepAtLeast} newest (keep at least ${retention.keepAtLeast})`,
    );

  const wallClock = new WallClock(timeZone);
  const onTheWall = unexpired.map((snapshot) => ({ snapshot, wall: wallClock.at(snapshot.createdMs) }));
  for (const period of RETENTION_PERIODS) {
    const periodsKept = retention[period];
    const seen = new Set<string>();
    for (const { snapshot, wall } of onTheWall) {
      if (seen.size === periodsKept) break;
      const label = periodLabel(period, wall);
      if (seen.has(label)) continue;
      seen.add(label);
      keepFor(snapshot, period, `${period} ${seen.size} of ${periodsKept}: newest of ${label}`);
    }
  }

  const decision: RetentionDecision = {
    now: now.toISOString(),
    timeZone,
    retention: { ...retention },
    keep: [],
    delete: [],
  };
  for (const snapshot of dated) {
    const kept = rulesById.get(snapshot.id) ?? new Map<KeepRule, string>();
    if (kept.size === 0) {
      decision.delete.push(
        isExpired(snapshot)
          ? {
              id: snapshot.id,
              createdAt: snapshot.createdAt,
              rule: 'expired',
              reason: `expired at ${snapshot.expiresAt}`,
            }
          : { id: snapshot.id, createdAt: snapshot.createdAt, rule: 'unkept', reason: 'no rule keeps it' },
      );
      continue;
    }
    const rules = KEEP_RULE_ORDER.filter((rule) => kept.has(rule));
    decision.keep.push({
      id: snapshot.id,
      createdAt: snapshot.createdAt,
      rules,
      reasons: rules.map((rule) => kept.get(rule) ?? rule),
      ...(isExpired(snapshot) ? { expiredAt: snapshot.expiresAt } : {}),
    });
  }
  return decision;
}

/**
 * The decision as a table for people: a header with the counts and the policy, then one line per
 * snapshot, newest first. `dryRun` changes only the header, so a dry run and a run list the same lines.
 */
export function formatRetentionReport(decision: RetentionDecision, options: { dryRun?: boolean } = {}): string {
  const { retention } = decision;
  const counts = RETENTION_PERIODS.filter((period) => retention[period] > 0).map(
    (period) => `${period} ${retention[period]}`,
  );
  const total = decision.keep.length + decision.delete.length;
  // One timeline, newest first, as the decision orders snapshots.
  const rows = [
    ...decision.keep.map((kept) => ({
      createdMs: parseUtcTimestamp(kept.createdAt) ?? 0,
      cells: [
        'keep',
        kept.id,
        kept.createdAt,
        kept.reasons.join('; ') +
          (kept.expiredAt === undefined ? '' : ` (expired at ${kept.expiredAt}; goes once nothing above holds it)`),
      ],
    })),
    ...decision.delete.map((deleted) => ({
      createdMs: parseUtcTimestamp(deleted.createdAt) ?? 0,
      cells: ['delete', deleted.id, deleted.createdAt, deleted.reason],
    })),
  ]
    .sort((a, b) => b.createdMs - a.createdMs || compareIdsDescending(a.cells[1] ?? '', b.cells[1] ?? ''))
    .map((row) => row.cells);
  return [
    `Retention at ${decision.now} (${decision.timeZone} calendar): keep ${decision.keep.length} of ${total} snapshots, delete ${decision.delete.length}.`,
    `Rules: keep at least ${retention.keepAtLeast}${counts.length === 0 ? '' : `; ${counts.join(', ')}`}; never the newest, pinned, retained-forever or not-yet-expired snapshots.`,
    ...(options.dryRun === true ? ['Dry run: nothing was deleted.'] : []),
    '',
    formatTable(['action', 'snapshot', 'created', 'why'], rows),
  ].join('\n');
}

function datedNewestFirst(snapshots: readonly RetentionCandidate[]): Dated[] {
  const ids = new Set<string>();
  const dated = snapshots.map((snapshot, index): Dated => {
    const at = `snapshots[${index}]`;
    if (ids.has(snapshot.id)) throw invalid(`${at}.id`, `${at}.id ${JSON.stringify(snapshot.id)} appears twice`);
    ids.add(snapshot.id);
    const createdMs = parseUtcTimestamp(snapshot.createdAt);
    if (createdMs === undefined)
      throw invalid(`${at}.createdAt`, `${at}.createdAt ${JSON.stringify(snapshot.createdAt)} is not a UTC timestamp`);
    if (snapshot.expiresAt === undefined) return { ...snapshot, createdMs };
    const expiresMs = parseUtcTimestamp(snapshot.expiresAt);
    if (expiresMs === undefined)
      throw invalid(`${at}.expiresAt`, `${at}.expiresAt ${JSON.stringify(snapshot.expiresAt)} is not a UTC timestamp`);
    return { ...snapshot, createdMs, expiresMs };
  });
  return dated.sort((a, b) => b.createdMs - a.createdMs || compareIdsDescending(a.id, b.id));
}

function compareIdsDescending(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? 1 : -1;
}

function invalid(field: string, message: string): SnapflowError {
  return new SnapflowError(ErrorNames.Validation, message, {
    field,
    action: 'Pass snapshots with distinct ids and UTC timestamps such as 2024-03-10T14:00:00.000Z.',
  });
}

/** The calendar period a wall-clock time falls in, written so people can read it. */
function periodLabel(period: RetentionPeriod, wall: WallTime): string {
  const date = `${wall.year}-${pad(wall.month)}-${pad(wall.day)}`;
  switch (period) {
    case 'hourly':
      return `${date} ${pad(wall.hour)}:00 (UTC${formatOffset(wall.offsetMinutes)})`;
    case 'daily':
      return date;
    case 'weekly':
      return isoWeek(wall.year, wall.month, wall.day);
    case 'monthly':
      return `${wall.year}-${pad(wall.month)}`;
    case 'yearly':
      return `${wall.year}`;
  }
}

/** ISO 8601 week of a date, e.g. `2024-W01`: weeks start on Monday and belong to the year of their Thursday. */
function isoWeek(year: number, month: number, day: number): string {
  const dayMs = 86_400_000;
  const date = Date.UTC(year, month - 1, day);
  const mondayBased = (new Date(date).getUTCDay() + 6) % 7;
  const thursday = date + (3 - mondayBased) * dayMs;
  const weekYear = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(weekYear, 0, 1)) / dayMs / 7) + 1;
  return `${weekYear}-W${pad(week)}`;
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const absolute = Math.abs(minutes);
  return `${sign}${pad(Math.floor(absolute / 60))}:${pad(absolute % 60)}`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
