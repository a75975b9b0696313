import { describe, expect, it } from 'vitest';
import { SnapflowError } from '../../../lib/core/errors';
import {
  decideRetention,
  formatRetentionReport,
  type KeepRule,
  type RetentionCandidate,
  type RetentionDecision,
} from '../../../lib/core/retention';
import { parseSnapshotPolicy, type RetentionPeriod, type SnapshotPolicy } from '../../../lib/core/snapshot-policy';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function policy(retention: Record<string, number>, timeZone?: string): SnapshotPolicy {
  return parseSnapshotPolicy({ schedule: timeZone === undefined ? null : { cron: '0 * * * *', timeZone }, retention });
}

/** One snapshot every `stepHours` from `start`, ids in creation order. */
function timeline(start: string, stepHours: number, count: number): RetentionCandidate[] {
  const startMs = Date.parse(start);
  return Array.from({ length: count }, (_, index) => ({
    id: `snap-${index.toString(16).padStart(16, '0')}`,
    createdAt: new Date(startMs + index * stepHours * HOUR).toISOString(),
    dependents: 0,
  }));
}

const idAt = (snapshots: RetentionCandidate[], createdAt: string): string => {
  const found = snapshots.find((snapshot) => snapshot.createdAt === createdAt);
  if (found === undefined) throw new Error(`no snapshot at ${createdAt}`);
  return found.id;
};

const keptIds = (decision: RetentionDecision) => decision.keep.map((kept) => kept.id).sort();
const rulesOf = (decision: RetentionDecision) =>
  Object.fromEntries(decision.keep.map((kept) => [kept.id, [...kept.rules].sort()]));

/**
 * The policy's definition applied directly: walking from newest to oldest, the first snapshot seen
 * of each of the first `count` distinct periods. Period keys come from the caller, computed with
 * plain string and UTC arithmetic rather than the time zone database the implementation reads.
 */
function newestOfRecentPeriods(
  snapshots: RetentionCandidate[],
  periodOf: (epochMs: number) => string,
  count: number,
): string[] {
  const newestFirst = [...snapshots].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const seen = new Map<string, string>();
  for (const snapshot of newestFirst) {
    const period = periodOf(Date.parse(snapshot.createdAt));
    if (!seen.has(period)) {
      if (seen.size === count) break;
      seen.set(period, snapshot.id);
    }
  }
  return [...seen.values()];
}

describe('decideRetention on a synthetic timeline', () => {
  // One snapshot every 3 hours for 90 days: 720 snapshots, 2024-01-01T00:00Z to 2024-03-30T21:00Z.
  const snapshots = timeline('2024-01-01T00:00:00.000Z', 3, 720);
  const now = new Date('2024-03-31T00:00:00.000Z');

  it('keeps exactly what each count says, worked out by hand (UTC)', () => {
    const decision = decideRetention(
      snapshots,
      policy({ hourly: 24, daily: 7, weekly: 4, monthly: 3, yearly: 1, keepAtLeast: 30 }),
      now,
    );
    const at = (createdAt: string) => idAt(snapshots, createdAt);
    // keepAtLeast 30: the 30 newest, every 3 hours back from 2024-03-30T21:00 to 2024-03-27T06:00.
    const newest30 = snapshots.slice(-30).map((snapshot) => snapshot.id);
    // hourly 24: each snapshot has an hour of its own, so the 24 newest (all among the 30).
    // daily 7: the 21:00 snapshot of 24–30 March; weekly 4: the Sunday 21:00 snapshots of the weeks
    // starting 25, 18, 11 and 4 March (the last is Saturday 30 March, the current week's newest);
    // monthly 3: the last snapshot of March, February (leap day) and January; yearly 1: the newest.
    const daily = ['24', '25', '26', '27', '28', '29', '30'].map((day) => at(`2024-03-${day}T21:00:00.000Z`));
    const weekly = ['2024-03-30', '2024-03-24', '2024-03-17', '2024-03-10'].map((day) => at(`${day}T21:00:00.000Z`));
    const monthly = ['2024-03-30', '2024-02-29', '2024-01-31'].map((day) => at(`${day}T21:00:00.000Z`));
    const expected = new Set([...newest30, ...daily, ...weekly, ...monthly]);

    expect(keptIds(decision)).toEqual([...expected].sort());
    expect(decision.keep).toHaveLength(37);
    expect(decision.delete).toHaveLength(720 - 37);
    expect(decision.delete.every((deleted) => deleted.rule === 'unkept' && deleted.reason === 'no rule keeps it')).toBe(
      true,
    );

    const rules = rulesOf(decision);
    expect(rules[at('2024-03-30T21:00:00.000Z')]).toEqual(
      ['daily', 'hourly', 'keepAtLeast', 'monthly', 'newest', 'weekly', 'yearly'].sort(),
    );
    expect(rules[at('2024-03-27T06:00:00.000Z')]).toEqual(['keepAtLeast']);
    expect(rules[at('2024-03-28T00:00:00.000Z')]).toEqual(['hourly', 'keepAtLeast']);
    expect(rules[at('2024-03-24T21:00:00.000Z')]).toEqual(['daily', 'weekly']);
    expect(rules[at('2024-03-10T21:00:00.000Z')]).toEqual(['weekly']);
    expect(rules[at('2024-02-29T21:00:00.000Z')]).toEqual(['monthly']);
    const newest = decision.keep[0];
    expect(newest?.reasons).toEqual([
      'newest snapshot',
      'one of the 30 newest (keep at least 30)',
      'hourly 1 of 24: newest of 2024-03-30 21:00 (UTC+00:00)',
      'daily 1 of 7: newest of 2024-03-30',
      'weekly 1 of 4: newest of 2024-W13',
      'monthly 1 of 3: newest of 2024-03',
      'yearly 1 of 1: newest of 2024',
    ]);
  });

  it('keeps exactly what the policy says across a daylight saving change in Europe/Berlin', () => {
    // One snapshot every 2 hours for 45 days: 540 snapshots; Berlin moves from +01:00 to +02:00 at 2024-03-31T01:00Z.
    const berlin = timeline('2024-03-01T00:00:00.000Z', 2, 540);
    const rules = { hourly: 48, daily: 14, weekly: 3, monthly: 2, keepAtLeast: 5 };
    const decision = decideRetention(berlin, policy(rules, 'Europe/Berlin'), new Date('2024-04-16T00:00:00.000Z'));

    const offsetMs = (epochMs: number) => (epochMs < Date.UTC(2024, 2, 31, 1) ? HOUR : 2 * HOUR);
    const local = (epochMs: number) => new Date(epochMs + offsetMs(epochMs)).toISOString();
    const mondayOfFirstWeek = Date.UTC(2024, 0, 1);
    const periodOf: Record<RetentionPeriod, (epochMs: number) => string> = {
      hourly: (epochMs) => `${local(epochMs).slice(0, 13)} ${offsetMs(epochMs)}`,
      daily: (epochMs) => local(epochMs).slice(0, 10),
      weekly: (epochMs) =>
        String(Math.floor((Date.parse(local(epochMs).slice(0, 10)) - mondayOfFirstWeek) / (7 * DAY))),
      monthly: (epochMs) => local(epochMs).slice(0, 7),
      yearly: (epochMs) => local(epochMs).slice(0, 4),
    };
    const expectedRules = new Map<string, KeepRule[]>();
    const add = (id: string, rule: KeepRule) => expectedRules.set(id, [...(expectedRules.get(id) ?? []), rule]);
    const newestFirst = [...berlin].reverse();
    add(newestFirst[0]?.id ?? '', 'newest');
    for (const snapshot of newestFirst.slice(0, rules.keepAtLeast)) add(snapshot.id, 'keepAtLeast');
    for (const period of ['hourly', 'daily', 'weekly', 'monthly'] as const)
      for (const id of newestOfRecentPeriods(berlin, periodOf[period], rules[period])) add(id, period);

    expect(keptIds(decision)).toEqual([...expectedRules.keys()].sort());
    expect(rulesOf(decision)).toEqual(
      Object.fromEntries([...expectedRules].map(([id, kept]) => [id, [...kept].sort()])),
    );
    // The newest is 2024-04-15 00:00 in Berlin. hourly 48 keeps the 48 newest (back to 11 April 02:00);
    // daily 14 adds 2–10 April; weekly 3 adds nothing (7 April is kept daily); monthly 2 adds 31 March 22:00.
    expect(decision.keep).toHaveLength(48 + 9 + 1);
    expect(decision.keep.length + decision.delete.length).toBe(540);
  });

  it('deletes nothing more when run again on what it kept', () => {
    const rules = policy({ hourly: 24, daily: 7, weekly: 4, monthly: 3, keepAtLeast: 3 }, 'Europe/Berlin');
    const first = decideRetention(snapshots, rules, now);
    const deleted = new Set(first.delete.map((snapshot) => snapshot.id));
    const second = decideRetention(
      snapshots.filter((snapshot) => !deleted.has(snapshot.id)),
      rules,
      now,
    );
    expect(second.delete).toEqual([]);
    expect(second.keep).toEqual(first.keep);
  });

  it('decides the same whatever the input order', () => {
    const rules = policy({ hourly: 6, daily: 3, weekly: 2 });
    const shuffled = [...snapshots].sort((a, b) => (a.id.slice(-3) < b.id.slice(-3) ? 1 : -1));
    expect(decideRetention(shuffled, rules, now)).toEqual(decideRetention(snapshots, rules, now));
  });

  it('keeps pinned, retained-forever and not-yet-expired snapshots, and deletes expired ones a count would keep', () => {
    const marked = snapshots.map((snapshot, index): RetentionCandidate => {
      if (index === 5) return { ...snapshot, dependents: 2 };
      if (index === 6) return { ...snapshot, dependents: 1, expiresAt: '2024-02-01T00:00:00.000Z' };
      if (index === 10) return { ...snapshot, retainForever: true, expiresAt: '2024-02-01T00:00:00.000Z' };
      if (index === 20) return { ...snapshot, expiresAt: '2024-04-01T00:00:00.000Z' };
      // The daily rule would keep 24 March 21:00; its expiry has passed.
      if (snapshot.createdAt === '2024-03-24T21:00:00.000Z') return { ...snapshot, expiresAt: '2024-03-30T00:00:00Z' };
      return snapshot;
    });
    const decision = decideRetention(marked, policy({ daily: 7 }), now);
    const kept = new Map(decision.keep.map((snapshot) => [snapshot.id, snapshot]));
    const byIndex = (index: number) => kept.get(snapshots[index]?.id ?? '');

    expect(byIndex(5)?.reasons).toEqual(['pinned by 2 clones']);
    expect(byIndex(6)).toMatchObject({ reasons: ['pinned by 1 clone'], expiredAt: '2024-02-01T00:00:00.000Z' });
    expect(byIndex(10)).toMatchObject({ rules: ['retainForever'], expiredAt: '2024-02-01T00:00:00.000Z' });
    expect(byIndex(20)?.reasons).toEqual(['kept until it expires at 2024-04-01T00:00:00.000Z']);

    const expired = idAt(snapshots, '2024-03-24T21:00:00.000Z');
    expect(decision.delete.find((snapshot) => snapshot.id === expired)).toEqual({
      id: expired,
      createdAt: '2024-03-24T21:00:00.000Z',
      rule: 'expired',
      reason: 'expired at 2024-03-30T00:00:00Z',
    });
    // The next newest of that day stands in for it.
    expect(kept.get(idAt(snapshots, '2024-03-24T18:00:00.000Z'))?.reasons).toEqual([
      'daily 7 of 7: newest of 2024-03-24',
    ]);
    expect(decision.keep).toHaveLength(7 + 4);
  });
});

describe('decideRetention safety', () => {
  const now = new Date('2024-03-31T00:00:00.000Z');

  it('never deletes the newest snapshot, even when it has expired or was taken after now', () => {
    const snapshots = timeline('2024-03-30T00:00:00.000Z', 1, 10);
    const newest = snapshots[9];
    if (newest === undefined) throw new Error('no newest');
    newest.expiresAt = '2024-03-30T12:00:00.000Z';
    const decision = decideRetention(snapshots, policy({ keepAtLeast: 1 }), now);
    expect(decision.keep.map((kept) => [kept.id, kept.rules])).toEqual([
      [newest.id, ['newest']],
      [snapshots[8]?.id, ['keepAtLeast']],
    ]);

    const justTaken = { id: 'snap-just-taken', createdAt: '2024-03-31T00:05:00.000Z', dependents: 0 };
    const later = decideRetention([...snapshots, justTaken], policy({ daily: 1 }), now);
    expect(later.keep[0]).toMatchObject({ id: 'snap-just-taken', rules: ['newest', 'keepAtLeast', 'daily'] });
  });

  it('keeps a count of periods with snapshots even when they are sparse (zrepl#692)', () => {
    // One snapshot every 4 days, the newest 10 days old: daily 7 keeps seven, though none was taken
    // in the last 7 days (pruning by age, as sanoid does, would keep none of them but the newest).
    const sparse = timeline('2024-01-05T00:00:00.000Z', 4 * 24, 20);
    const decision = decideRetention(sparse, policy({ daily: 7 }), now);
    expect(keptIds(decision)).toEqual(
      sparse
        .slice(-7)
        .map((snapshot) => snapshot.id)
        .sort(),
    );
    const atLeast = decideRetention(sparse, policy({ daily: 1, keepAtLeast: 10 }), now);
    expect(atLeast.keep).toHaveLength(10);
  });

  it('lets rules add up rather than cancel each other (zrepl#292)', () => {
    const snapshots = timeline('2024-01-01T00:00:00.000Z', 12, 180);
    const daily = keptIds(decideRetention(snapshots, policy({ daily: 2 }), now));
    const monthly = keptIds(decideRetention(snapshots, policy({ monthly: 3 }), now));
    const both = keptIds(decideRetention(snapshots, policy({ daily: 2, monthly: 3 }), now));
    expect(both).toEqual([...new Set([...daily, ...monthly])].sort());
    expect(both).toHaveLength(4);
  });

  it('keeps only the newest and pinned snapshots when no count is set', () => {
    const snapshots = timeline('2024-03-01T00:00:00.000Z', 24, 20).map((snapshot, index) =>
      index === 3 ? { ...snapshot, dependents: 1 } : snapshot,
    );
    const decision = decideRetention(snapshots, policy({ keepAtLeast: 1 }), now);
    expect(decision.keep.map((kept) => kept.id)).toEqual([snapshots[19]?.id, snapshots[3]?.id]);
  });

  it('decides nothing for no snapshots', () => {
    expect(decideRetention([], policy({ daily: 7 }), now)).toMatchObject({ keep: [], delete: [] });
  });

  it.each([
    [
      [
        { id: 'a', createdAt: '2024-03-01T00:00:00Z', dependents: 0 },
        { id: 'a', createdAt: '2024-03-02T00:00:00Z', dependents: 0 },
      ],
      'snapshots[1].id "a" appears twice',
    ],
    [[{ id: 'a', createdAt: 'yesterday', dependents: 0 }], 'snapshots[0].createdAt "yesterday" is not a UTC timestamp'],
    [
      [{ id: 'a', createdAt: '2024-03-01T00:00:00Z', expiresAt: '2024-02-30T00:00:00Z', dependents: 0 }],
      'snapshots[0].expiresAt "2024-02-30T00:00:00Z" is not a UTC timestamp',
    ],
  ])('refuses bad input with a ValidationError: %#', (snapshots, message) => {
    let error: unknown;
    try {
      decideRetention(snapshots, policy({ daily: 1 }), now);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SnapflowError);
    expect((error as SnapflowError).name).toBe('ValidationError');
    expect((error as SnapflowError).message).toBe(message);
  });
});

describe('decideRetention calendar alignment', () => {
  // 22:30 and 23:30 UTC on 10 March are 23:30 on 10 March and 00:30 on 11 March in Berlin (+01:00).
  const snapshots: RetentionCandidate[] = [
    { id: 'snap-late', createdAt: '2024-03-10T23:30:00.000Z', dependents: 0 },
    { id: 'snap-evening', createdAt: '2024-03-10T22:30:00.000Z', dependents: 0 },
    { id: 'snap-day-before', createdAt: '2024-03-09T12:00:00.000Z', dependents: 0 },
  ];
  const now = new Date('2024-03-11T06:00:00.000Z');

  it('aligns days to UTC without a schedule', () => {
    const decision = decideRetention(snapshots, policy({ daily: 2 }), now);
    expect(decision.timeZone).toBe('UTC');
    expect(decision.keep.map((kept) => [kept.id, kept.reasons.at(-1)])).toEqual([
      ['snap-late', 'daily 1 of 2: newest of 2024-03-10'],
      ['snap-day-before', 'daily 2 of 2: newest of 2024-03-09'],
    ]);
    expect(decision.delete.map((deleted) => deleted.id)).toEqual(['snap-evening']);
  });

  it("aligns days to the schedule's time zone", () => {
    const decision = decideRetention(snapshots, policy({ daily: 2 }, 'Europe/Berlin'), now);
    expect(decision.timeZone).toBe('Europe/Berlin');
    expect(decision.keep.map((kept) => [kept.id, kept.reasons.at(-1)])).toEqual([
      ['snap-late', 'daily 1 of 2: newest of 2024-03-11'],
      ['snap-evening', 'daily 2 of 2: newest of 2024-03-10'],
    ]);
    expect(decision.delete.map((deleted) => deleted.id)).toEqual(['snap-day-before']);
  });

  it('counts ISO weeks from Monday in the time zone, numbered by ISO week-year', () => {
    // Sunday 31 December 2023 23:30 UTC is Monday 1 January 2024 00:30 in Berlin: week 2024-W01, not 2023-W52.
    const turn = [
      { id: 'snap-monday-berlin', createdAt: '2023-12-31T23:30:00.000Z', dependents: 0 },
      { id: 'snap-sunday', createdAt: '2023-12-31T12:00:00.000Z', dependents: 0 },
    ];
    const inBerlin = decideRetention(turn, policy({ weekly: 2 }, 'Europe/Berlin'), now);
    expect(inBerlin.keep.map((kept) => kept.reasons.at(-1))).toEqual([
      'weekly 1 of 2: newest of 2024-W01',
      'weekly 2 of 2: newest of 2023-W52',
    ]);
    const inUtc = decideRetention(turn, policy({ weekly: 2 }), now);
    expect(inUtc.keep.map((kept) => kept.id)).toEqual(['snap-monday-berlin']);
  });

  it('counts the repeated hour of a fall-back change as two hours', () => {
    // 00:30 and 01:30 UTC on 27 October 2024 are both 02:30 in Berlin, at +02:00 and then +01:00.
    const repeated = [
      { id: 'snap-second-pass', createdAt: '2024-10-27T01:30:00.000Z', dependents: 0 },
      { id: 'snap-first-pass', createdAt: '2024-10-27T00:30:00.000Z', dependents: 0 },
    ];
    const decision = decideRetention(repeated, policy({ hourly: 2 }, 'Europe/Berlin'), now);
    expect(decision.keep.map((kept) => kept.reasons.at(-1))).toEqual([
      'hourly 1 of 2: newest of 2024-10-27 02:00 (UTC+01:00)',
      'hourly 2 of 2: newest of 2024-10-27 02:00 (UTC+02:00)',
    ]);
  });
});

describe('formatRetentionReport', () => {
  const snapshots: RetentionCandidate[] = [
    { id: 'snap-c', createdAt: '2024-03-09T12:00:00.000Z', dependents: 0 },
    { id: 'snap-a', createdAt: '2024-03-10T12:00:00.000Z', dependents: 0 },
    { id: 'snap-b', createdAt: '2024-03-10T09:00:00.000Z', dependents: 1 },
    { id: 'snap-d', createdAt: '2024-03-08T12:00:00.000Z', expiresAt: '2024-03-09T00:00:00.000Z', dependents: 0 },
    { id: 'snap-e', createdAt: '2024-03-07T12:00:00.000Z', dependents: 0 },
    { id: 'snap-f', createdAt: '2024-03-06T12:00:00.000Z', expiresAt: '2024-03-07T00:00:00.000Z', dependents: 2 },
  ];
  const decision = decideRetention(snapshots, policy({ daily: 2 }), new Date('2024-03-10T13:00:00.000Z'));

  it('lists every snapshot, newest first, with what is kept and why and what is deleted and why', () => {
    expect(formatRetentionReport(decision)).toBe(
      [
        'Retention at 2024-03-10T13:00:00.000Z (UTC calendar): keep 4 of 6 snapshots, delete 2.',
        'Rules: keep at least 1; daily 2; never the newest, pinned, retained-forever or not-yet-expired snapshots.',
        '',
        'action  snapshot  created                   why',
        `------  --------  ------------------------  ${'-'.repeat(90)}`,
        'keep    snap-a    2024-03-10T12:00:00.000Z  newest snapshot; one of the 1 newest (keep at least 1); daily 1 of 2: newest of 2024-03-10',
        'keep    snap-b    2024-03-10T09:00:00.000Z  pinned by 1 clone',
        'keep    snap-c    2024-03-09T12:00:00.000Z  daily 2 of 2: newest of 2024-03-09',
        'delete  snap-d    2024-03-08T12:00:00.000Z  expired at 2024-03-09T00:00:00.000Z',
        'delete  snap-e    2024-03-07T12:00:00.000Z  no rule keeps it',
        'keep    snap-f    2024-03-06T12:00:00.000Z  pinned by 2 clones (expired at 2024-03-07T00:00:00.000Z; goes once nothing above holds it)',
      ].join('\n'),
    );
  });

  it('shows a dry run with the same decisions, saying nothing was deleted', () => {
    const dryRun = formatRetentionReport(decision, { dryRun: true }).split('\n');
    const run = formatRetentionReport(decision).split('\n');
    expect(dryRun[2]).toBe('Dry run: nothing was deleted.');
    expect(dryRun.filter((_, index) => index !== 2)).toEqual(run);
  });

  it('deletes in a run exactly what the dry run listed', () => {
    const store = new Map(snapshots.map((snapshot) => [snapshot.id, snapshot]));
    const listed = formatRetentionReport(decision, { dryRun: true })
      .split('\n')
      .filter((line) => line.startsWith('delete '))
      .map((line) => line.split(/\s+/)[1]);
    for (const deleted of decideRetention([...store.values()], policy({ daily: 2 }), new Date(decision.now)).delete)
      store.delete(deleted.id);
    expect(snapshots.filter((snapshot) => !store.has(snapshot.id)).map((snapshot) => snapshot.id)).toEqual(
      expect.arrayContaining(listed),
    );
    expect(snapshots.length - store.size).toBe(listed.length);
  });
});
