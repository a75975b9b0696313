import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTreeManifest } from '../../lib/adapters/tree-manifest';
import type { WorkflowRun } from '../../lib/local/local-workflows';
import { expectTree, linkSampleTree, succeeded } from '../support/e2e-checks';
import { type LocalSession, startLocalSession } from '../support/local-session';

/** When each run's Copy step ran, in the order they started. */
function copyIntervals(runs: readonly WorkflowRun[]): { start: number; end: number }[] {
  return runs
    .map((run) => {
      const copies = run.steps.filter((step) => step.state === 'Copy');
      expect(copies).toHaveLength(1);
      const [copy] = copies;
      return { start: Date.parse(copy?.startedAt ?? ''), end: Date.parse(copy?.endedAt ?? '') };
    })
    .sort((a, b) => a.start - b.start);
}

/** Each copy starts only once the one before it has ended. */
function expectNoOverlap(intervals: readonly { start: number; end: number }[]): void {
  for (let index = 1; index < intervals.length; index += 1)
    expect(intervals[index]?.start).toBeGreaterThanOrEqual(intervals[index - 1]?.end ?? Number.POSITIVE_INFINITY);
}

/**
 * Syncs triggered together on one dSource queue for its lease: they run one after the other, each
 * succeeds, and the last snapshot holds the source as it was when the last of them started.
 */
describe('syncs that overlap on one dSource', () => {
  let session: LocalSession;
  let source: string;
  let dsourceId: string;
  const sync = () =>
    session.run('sync', { dsourceId, snapshotParameters: { resync: false }, trigger: { kind: 'event', id: 'test' } });

  beforeAll(async () => {
    session = await startLocalSession();
    ({ source, dsourceId } = await linkSampleTree(session, { fileCount: 60, largeFileBytes: 256 * 1024 }));
  });

  afterAll(async () => {
    await session?.close();
  });

  it('runs two syncs started at once one after the other, and both succeed', async () => {
    const runs = await Promise.all([sync(), sync()]);

    for (const run of runs) succeeded(run);
    expectNoOverlap(copyIntervals(runs));
    // The later one waited for the lease rather than failing or overlapping.
    const retries = runs.map((run) => run.steps.find((step) => step.state === 'AcquireLease')?.retries ?? -1);
    expect(Math.min(...retries)).toBe(0);
    expect(Math.max(...retries)).toBeGreaterThan(0);
    expect(await session.mounts()).toEqual([]);
  });

  it('runs ten syncs started within a second one at a time; the last snapshot is the source as it ended', async () => {
    const started = Date.now();
    const running: Promise<WorkflowRun>[] = [];
    for (let index = 0; index < 10; index += 1) {
      // Each trigger follows a change to the source, as an event would.
      await writeFile(join(source, `change-${index}.txt`), `change ${index}\n`);
      await appendFile(join(source, 'dir-0/sub-0/file-0.dat'), `appended by change ${index}\n`);
      running.push(sync());
      await sleep(50);
    }
    expect(Date.now() - started).toBeLessThan(1000);
    const finalState = await readTreeManifest(source);

    const runs = await Promise.all(running);

    const snapshotIds = runs.map((run) => succeeded<{ snapshotId: string }>(run).snapshotId);
    expect(new Set(snapshotIds).size).toBe(10);
    expectNoOverlap(copyIntervals(runs));
    const newest = (await session.local.engine.listSnapshots({ datasetId: dsourceId })).at(-1);
    expect(snapshotIds).toContain(newest?.id);
    await expectTree(newest?.path ?? '', finalState);
    expect(await session.mounts()).toEqual([]);
  });
});
