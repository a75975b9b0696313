import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTreeManifest } from '../../lib/adapters/tree-manifest';
import type { RetentionReport } from '../../lib/core/steps/report-retention';
import type { TreeManifest } from '../../lib/core/tree-diff';
import { expectTree, linkSampleTree, succeeded } from '../support/e2e-checks';
import { type LocalSession, startLocalSession } from '../support/local-session';

/**
 * Retention on the local engine: a dSource linked with a policy that keeps its 2 newest snapshots, five
 * snapshots, a VDB provisioned from the second. A dry run reports; a run deletes exactly what it
 * reported, never the newest or the pinned one, and the snapshots it keeps hold their data.
 */
describe('retention on the local engine', () => {
  let session: LocalSession;
  let dsourceId: string;
  /** Oldest first, with the source as each snapshot took it. */
  const snapshots: { id: string; tree: TreeManifest }[] = [];
  let dryRun: RetentionReport;

  const engine = () => session.local.engine;
  const retention = async (dry: boolean) =>
    succeeded<RetentionReport>(
      await session.run('retention', { datasetId: dsourceId, dryRun: dry, trigger: { kind: 'api' } }),
    );

  beforeAll(async () => {
    session = await startLocalSession();
    const linked = await linkSampleTree(
      session,
      { fileCount: 40, largeFileBytes: 128 * 1024 },
      { policy: { retention: { keepAtLeast: 2 } } },
    );
    const { source } = linked;
    dsourceId = linked.dsourceId;
    snapshots.push({ id: linked.snapshotId, tree: await readTreeManifest(source) });
    for (let index = 1; index < 5; index += 1) {
      await writeFile(join(source, `change-${index}.txt`), `change ${index}\n`);
      await appendFile(join(source, 'dir-0/sub-0/file-1.dat'), `appended ${index}\n`);
      const synced = succeeded<{ snapshotId: string }>(
        await session.run('sync', { dsourceId, snapshotParameters: { resync: false }, trigger: { kind: 'api' } }),
      );
      snapshots.push({ id: synced.snapshotId, tree: await readTreeManifest(source) });
    }
    succeeded(
      await session.run('provision', {
        name: 'vdb',
        snapshotId: snapshots[1]?.id ?? '',
        environmentId: session.local.environment.id,
        virtualSource: { mountLocation: join(session.work, 'mnt', 'vdb') },
      }),
    );
  });

  afterAll(async () => {
    await session?.close();
  });

  const ids = (...indexes: number[]) => indexes.map((index) => snapshots[index]?.id);

  it('linked the dSource with the policy given', async () => {
    expect((await engine().getDSource(dsourceId)).policy.retention).toMatchObject({ keepAtLeast: 2 });
  });

  it('reports in a dry run what it would delete, and deletes nothing', async () => {
    dryRun = await retention(true);

    expect(dryRun.kept.map((kept) => kept.id)).toEqual(ids(4, 3, 1));
    expect(dryRun.kept[2]?.reasons).toEqual(['pinned by 1 clone']);
    expect(dryRun.deleted.map((deleted) => deleted.id)).toEqual(ids(2, 0));
    expect(dryRun.skipped).toEqual([]);
    expect(dryRun.report).toContain('Dry run: nothing was deleted.');
    expect((await engine().listSnapshots({ datasetId: dsourceId })).map((snapshot) => snapshot.id)).toEqual(
      ids(0, 1, 2, 3, 4),
    );
  });

  it('deletes exactly what the dry run reported, never the newest or the pinned snapshot', async () => {
    const run = await retention(false);

    expect(run).toEqual({ ...dryRun, dryRun: false, report: expect.not.stringContaining('Dry run') });
    expect((await engine().listSnapshots({ datasetId: dsourceId })).map((snapshot) => snapshot.id)).toEqual(
      ids(1, 3, 4),
    );
  });

  it('leaves the data of the snapshots it kept as they took it', async () => {
    for (const index of [1, 3, 4]) {
      const kept = snapshots[index] as { id: string; tree: TreeManifest };
      await expectTree((await engine().getSnapshot(kept.id)).path, kept.tree);
    }
  });

  it('deletes nothing more when run again', async () => {
    const again = await retention(false);

    expect(again.deleted).toEqual([]);
    expect(again.kept.map((kept) => kept.id)).toEqual(ids(4, 3, 1));
  });
});
