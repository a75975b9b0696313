import { describe, expect, it } from 'vitest';
import type { Job, WorkflowStarter } from '../../../lib/api/api-ports';
import { startRuns } from '../../../lib/api/dispatch-entries';
import { ErrorNames, SnapflowError } from '../../../lib/core/errors';

/** A starter that knows which job ids exist and fails the ones it is told to. */
function starter(existing: string[], failing: string[] = []): WorkflowStarter & { started: string[] } {
  const started: string[] = [];
  return {
    started,
    async start(workflow, input, jobId) {
      if (failing.includes(jobId)) throw new Error(`cannot start ${jobId}`);
      if (existing.includes(jobId) || started.includes(jobId))
        throw new SnapflowError(ErrorNames.Conflict, `a job ${jobId} exists already`, { action: 'None.' });
      started.push(jobId);
      return { id: jobId, workflow, status: 'RUNNING', input, startedAt: '', steps: [] } satisfies Job;
    },
  };
}

const runs = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ jobId: `sync-${String(index).padStart(16, '0')}`, input: { index } }));

describe('startRuns', () => {
  it('starts every run, and counts one that exists as started already', async () => {
    const workflows = starter(['sync-0000000000000001']);

    const outcomes = await startRuns(workflows, 'sync', runs(20));

    expect(workflows.started).toHaveLength(19);
    expect(outcomes.filter((outcome) => outcome.outcome === 'started')).toHaveLength(19);
    expect(outcomes.filter((outcome) => outcome.outcome === 'alreadyStarted')).toEqual([
      { jobId: 'sync-0000000000000001', outcome: 'alreadyStarted' },
    ]);
  });

  it('tries every run before it reports the ones that did not start', async () => {
    const workflows = starter([], ['sync-0000000000000002', 'sync-0000000000000011']);

    await expect(startRuns(workflows, 'sync', runs(12))).rejects.toThrow(/2 of 12 sync runs did not start/);
    expect(workflows.started).toHaveLength(10);
  });
});
