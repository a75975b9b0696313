import { describe, expect, it } from 'vitest';
import { JOB_ID_PATTERN } from '../../../lib/api/job-id';
import { formatScheduledTime } from '../../../lib/core/cron-schedule';
import { retentionRun, scheduledSnapshotRun, triggeredJobId } from '../../../lib/core/triggered-runs';
import { validate } from '../../../lib/core/validate';
import { retentionInputSchema, snapshotVdbInputSchema, syncInputSchema } from '../../../lib/core/workflow-inputs';

const scheduledTime = formatScheduledTime(new Date('2026-11-21T02:30:00Z'));

describe('triggeredJobId', () => {
  it('is the workflow and 16 hex digits, the same for the same key only', () => {
    const id = triggeredJobId('sync', ['event-1', 'ds-00000000000000d1']);

    expect(id).toMatch(new RegExp(JOB_ID_PATTERN));
    expect(triggeredJobId('sync', ['event-1', 'ds-00000000000000d1'])).toBe(id);
    expect(triggeredJobId('sync', ['event-1ds', '-00000000000000d1'])).not.toBe(id);
  });
});

describe('scheduledSnapshotRun', () => {
  it("syncs a dSource with the schedule's run as its trigger", () => {
    const run = scheduledSnapshotRun({ id: 'ds-00000000000000d1', kind: 'dsource' }, scheduledTime);

    expect(run).toEqual({
      workflow: 'sync',
      input: {
        dsourceId: 'ds-00000000000000d1',
        snapshotParameters: { resync: false },
        trigger: { kind: 'schedule', id: 'ds-00000000000000d1@2026-11-21T02:30:00Z' },
      },
    });
    expect(validate(syncInputSchema, run.input, 'input')).toBeDefined();
  });

  it('snapshots a VDB', () => {
    const run = scheduledSnapshotRun({ id: 'vdb-00000000000000b1', kind: 'vdb' }, scheduledTime);

    expect(run).toEqual({
      workflow: 'snapshot-vdb',
      input: {
        vdbId: 'vdb-00000000000000b1',
        trigger: { kind: 'schedule', id: 'vdb-00000000000000b1@2026-11-21T02:30:00Z' },
      },
    });
    expect(validate(snapshotVdbInputSchema, run.input, 'input')).toBeDefined();
  });
});

describe('retentionRun', () => {
  it('applies the policy for real, once per dataset and scheduled time', () => {
    const run = retentionRun('ds-00000000000000d1', scheduledTime);

    expect(run.input).toEqual({
      datasetId: 'ds-00000000000000d1',
      dryRun: false,
      trigger: { kind: 'schedule', id: 'ds-00000000000000d1@2026-11-21T02:30:00Z' },
    });
    expect(validate(retentionInputSchema, run.input, 'input')).toBeDefined();
    expect(run.jobId).toMatch(/^retention-[0-9a-f]{16}$/);
    expect(retentionRun('ds-00000000000000d1', scheduledTime).jobId).toBe(run.jobId);
    expect(retentionRun('vdb-00000000000000b1', scheduledTime).jobId).not.toBe(run.jobId);
  });
});
