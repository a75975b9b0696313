import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTreeManifest } from '../../lib/adapters/tree-manifest';
import type { TreeManifest } from '../../lib/core/tree-diff';
import { expectTree, linkSampleTree, poolStorage, recordedStorage, succeeded } from '../support/e2e-checks';
import { type LocalSession, startLocalSession } from '../support/local-session';

/**
 * Every VDB workflow on the local engine, with real rsync and real mounts: rollback, refresh, child
 * VDBs, V2P export, stop/start/disable/enable, and deletes refused while others depend on a dataset.
 */
describe('VDB lifecycle on the local engine', () => {
  let session: LocalSession;
  let source: string;
  let vdbMount: string;
  let childMount: string;
  let dsourceId: string;
  let vdbId: string;
  let childId: string;
  let vdbSnapshotId: string;

  const engine = () => session.local.engine;
  const snapshotTree = async (id: string) => readTreeManifest((await engine().getSnapshot(id)).path);
  const snapshotVdb = async (id: string) =>
    succeeded<{ snapshotId: string }>(await session.run('snapshot-vdb', { vdbId: id, trigger: { kind: 'api' } }))
      .snapshotId;

  beforeAll(async () => {
    session = await startLocalSession();
    vdbMount = join(session.work, 'mnt', 'vdb');
    childMount = join(session.work, 'mnt', 'child');
    ({ source, dsourceId } = await linkSampleTree(session, { fileCount: 60, largeFileBytes: 256 * 1024 }));
  });

  afterAll(async () => {
    await session?.close();
  });

  it('provisions a VDB from the latest snapshot of a dSource named as sourceDataId', async () => {
    const [latest] = (await engine().listSnapshots({ datasetId: dsourceId })).slice(-1);

    const output = succeeded<{ vdbId: string; timeflowId: string }>(
      await session.run('provision', {
        name: 'vdb',
        sourceDataId: dsourceId,
        environmentId: session.local.environment.id,
        virtualSource: { mountLocation: vdbMount },
      }),
    );

    vdbId = output.vdbId;
    await expectTree(vdbMount, await snapshotTree(latest?.id as string));
    expect(await engine().getVdb(vdbId)).toMatchObject({
      parentDatasetId: dsourceId,
      parentSnapshotId: latest?.id,
      currentTimeflowId: output.timeflowId,
      status: 'RUNNING',
    });
  });

  it('rolls back to exactly the chosen snapshot, keeping the abandoned timeflow listed and readable', async () => {
    await mkdir(join(vdbMount, 'work'));
    await writeFile(join(vdbMount, 'work', 'a.txt'), 'written before the snapshot\n');
    const chosen = await snapshotVdb(vdbId);
    const atChosen = await readTreeManifest(vdbMount);
    expect(await snapshotTree(chosen)).toEqual(atChosen);
    await writeFile(join(vdbMount, 'work', 'b.txt'), 'written after it, never snapshotted\n');
    await writeFile(join(vdbMount, 'dir-0', 'sub-0', 'file-0.dat'), 'changed after it\n');
    await rm(join(vdbMount, 'zero-bytes'));
    const atAbandon = await readTreeManifest(vdbMount);
    const abandonedId = (await engine().getVdb(vdbId)).currentTimeflowId;

    const output = succeeded<{ timeflowId: string; snapshotId: string }>(
      await session.run('rollback', { vdbId, snapshotId: chosen }),
    );

    await expectTree(vdbMount, atChosen);
    const timeflows = await engine().listTimeflows({ datasetId: vdbId });
    expect(timeflows.map((timeflow) => timeflow.id)).toEqual([abandonedId, output.timeflowId]);
    expect(timeflows[1]).toMatchObject({ kind: 'rollback', parentSnapshotId: chosen });
    await expectTree((timeflows[0] as { path: string }).path, atAbandon);
    expect(await session.mounts()).toEqual([vdbMount]);
  });

  it("refreshes the VDB with its parent's newest data", async () => {
    await writeFile(join(source, 'new-in-source.txt'), 'arrived after the link\n');
    await writeFile(join(source, 'dir-0', 'sub-0', 'file-1.dat'), 'changed in the source\n');
    await rm(join(source, 'odd names'), { recursive: true });
    const synced = succeeded<{ snapshotId: string }>(
      await session.run('sync', { dsourceId, snapshotParameters: { resync: false }, trigger: { kind: 'api' } }),
    );

    const output = succeeded<{ snapshotId: string; timeflowId: string }>(await session.run('refresh', { vdbId }));

    expect(output.snapshotId).toBe(synced.snapshotId);
    await expectTree(vdbMount, await readTreeManifest(source));
    expect(await engine().getVdb(vdbId)).toMatchObject({
      status: 'RUNNING',
      currentTimeflowId: output.timeflowId,
      sourceConfig: { path: vdbMount },
    });
  });

  it("provisions a child VDB from the VDB's snapshot, holding exactly that snapshot", async () => {
    await writeFile(join(vdbMount, 'for-the-child.txt'), 'only in the VDB and its child\n');
    vdbSnapshotId = await snapshotVdb(vdbId);

    childId = succeeded<{ vdbId: string }>(
      await session.run('provision', {
        name: 'child',
        snapshotId: vdbSnapshotId,
        environmentId: session.local.environment.id,
        virtualSource: { mountLocation: childMount },
      }),
    ).vdbId;

    await expectTree(childMount, await snapshotTree(vdbSnapshotId));
    expect(await readFile(join(childMount, 'for-the-child.txt'), 'utf8')).toBe('only in the VDB and its child\n');
    expect(await engine().getVdb(childId)).toMatchObject({ parentDatasetId: vdbId, parentSnapshotId: vdbSnapshotId });
  });

  it('exports a snapshot as a physical copy, and a newer one by transferring only what changed', async () => {
    const host = session.local.environment;
    const { scratchPath } = host;
    const targetPath = join(session.work, 'v2p', 'copy');
    const expected = await snapshotTree(vdbSnapshotId);
    const exportLatest = async () =>
      succeeded<{ snapshotId: string; targetPath: string; filesTransferred: number; bytesTransferred: number }>(
        await session.run('export', { vdbId, environmentId: host.id, targetPath }),
      );

    const first = await exportLatest();

    expect(first).toMatchObject({ vdbId, snapshotId: vdbSnapshotId, targetPath });
    await expectTree(targetPath, expected);
    // The hard link's second name is made as a link, not transferred.
    const distinctFiles = expected.filter((e) => e.type === 'file' && (e.linkGroup ?? e.path) === e.path);
    expect(first.filesTransferred).toBe(distinctFiles.length);
    expect(await readdir(scratchPath)).toEqual([]);

    await writeFile(join(vdbMount, 'for-the-child.txt'), 'changed after the first export\n');
    const newer = await snapshotVdb(vdbId);
    const second = await exportLatest();

    expect(second).toMatchObject({ snapshotId: newer, filesTransferred: 1 });
    await expectTree(targetPath, await snapshotTree(newer));
    await expectTree((await engine().getSnapshot(vdbSnapshotId)).path, expected);
    expect(await readdir(scratchPath)).toEqual([]);
    expect((await session.mounts()).sort()).toEqual([childMount, vdbMount].sort());
  });

  it('refuses to delete a dataset others depend on, naming them and touching nothing', async () => {
    const deleteVdb = await session.run('delete-vdb', { vdbId });
    const deleteDSource = await session.run('delete-dsource', { dsourceId });

    expect(deleteVdb).toMatchObject({ status: 'FAILED', error: { name: 'DependentsExistError' } });
    expect(deleteVdb.error?.cause).toContain(`vdb ${childId}`);
    expect(deleteDSource).toMatchObject({ status: 'FAILED', error: { name: 'DependentsExistError' } });
    expect(deleteDSource.error?.cause).toContain(`vdb ${vdbId}`);
    expect((await session.mounts()).sort()).toEqual([childMount, vdbMount].sort());
    expect(await engine().getVdb(vdbId)).toMatchObject({ status: 'RUNNING', enabled: true });
  });

  it('stops, starts, disables and enables a VDB, which keeps its data throughout', async () => {
    await writeFile(join(childMount, 'child-write.txt'), 'written in the child\n');
    const before: TreeManifest = await readTreeManifest(childMount);
    const state = async () => {
      const { status, enabled } = await engine().getVdb(childId);
      return { status, enabled, mounted: (await session.mounts()).includes(childMount) };
    };

    succeeded(await session.run('stop-vdb', { vdbId: childId }));
    expect(await state()).toEqual({ status: 'STOPPED', enabled: true, mounted: false });
    expect(await readdir(childMount)).toEqual([]);

    succeeded(await session.run('start-vdb', { vdbId: childId }));
    expect(await state()).toEqual({ status: 'RUNNING', enabled: true, mounted: true });
    await expectTree(childMount, before);

    succeeded(await session.run('disable-vdb', { vdbId: childId }));
    expect(await state()).toEqual({ status: 'STOPPED', enabled: false, mounted: false });
    const refused = await session.run('start-vdb', { vdbId: childId });
    expect(refused).toMatchObject({ status: 'FAILED', error: { name: 'ConflictError' } });
    expect(refused.error?.cause).toMatch(/disabled[\s\S]*Action: Enable it first with enable-vdb/);

    succeeded(await session.run('enable-vdb', { vdbId: childId }));
    expect(await state()).toEqual({ status: 'RUNNING', enabled: true, mounted: true });
    await expectTree(childMount, before);
  });

  it('deletes the VDBs and the dSource once nothing depends on them, leaving no mount and no storage', async () => {
    succeeded(await session.run('delete-vdb', { vdbId: childId }));
    succeeded(await session.run('delete-vdb', { vdbId }));
    succeeded(await session.run('delete-dsource', { dsourceId }));

    expect(await session.mounts()).toEqual([]);
    expect(await engine().listVdbs()).toEqual([]);
    expect(await engine().listDSources()).toEqual([]);
    expect(await recordedStorage(session)).toEqual({ datasets: [], snapshots: [] });
    expect(await poolStorage(session)).toEqual({ datasets: [], snapshots: [] });
    expect(await readdir(vdbMount)).toEqual([]);
  });
});
