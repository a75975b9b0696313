import { describe, expect, it } from 'vitest';
import { decideRetention, formatRetentionReport } from '../../../../lib/core/retention';
import { parseSnapshotPolicy } from '../../../../lib/core/snapshot-policy';
import type { RetentionPlan } from '../../../../lib/core/steps/plan-retention';
import { reportRetention } from '../../../../lib/core/steps/report-retention';

const candidate = (id: string, day: number) => ({ id, createdAt: `2026-03-0${day}T12:00:00.000Z`, dependents: 0 });
const decision = decideRetention(
  [candidate('snap-a', 1), candidate('snap-b', 2), candidate('snap-c', 3)],
  parseSnapshotPolicy({ retention: { keepAtLeast: 1 } }),
  new Date('2026-03-10T00:00:00.000Z'),
);
const plan = (dryRun: boolean): RetentionPlan => ({
  datasetId: 'ds-0000000000000001',
  dryRun,
  decision,
  deleteIds: dryRun ? [] : ['snap-b', 'snap-a'],
});

describe('reportRetention', () => {
  it('reports what a dry run would delete as deleted, with the decision table', async () => {
    const report = await reportRetention({ plan: plan(true), deletions: [] });

    expect(report).toEqual({
      datasetId: 'ds-0000000000000001',
      dryRun: true,
      kept: [{ id: 'snap-c', reasons: ['newest snapshot', 'one of the 1 newest (keep at least 1)'] }],
      deleted: [
        { id: 'snap-b', reason: 'no rule keeps it' },
        { id: 'snap-a', reason: 'no rule keeps it' },
      ],
      skipped: [],
      report: formatRetentionReport(decision, { dryRun: true }),
    });
  });

  it('reports a delete the engine refused as skipped, with its own message, and not as deleted', async () => {
    const cause = JSON.stringify({
      errorType: 'DependentsExistError',
      errorMessage:
        'snapshot snap-b cannot be deleted: VDB vdb-1 was provisioned from it\nAction: Delete the VDB first.',
      trace: [],
    });

    const report = await reportRetention({
      plan: plan(false),
      deletions: [
        { snapshotId: 'snap-b', error: { Error: 'DependentsExistError', Cause: cause } },
        { snapshotId: 'snap-a' },
      ],
    });

    expect(report.deleted).toEqual([{ id: 'snap-a', reason: 'no rule keeps it' }]);
    expect(report.skipped).toEqual([
      {
        id: 'snap-b',
        error: 'DependentsExistError: snapshot snap-b cannot be deleted: VDB vdb-1 was provisioned from it',
      },
    ]);
    expect(report.report).toBe(
      `${formatRetentionReport(decision)}\n\nNot deleted after all:\nsnap-b  DependentsExistError: snapshot snap-b cannot be deleted: VDB vdb-1 was provisioned from it`,
    );
  });
});
