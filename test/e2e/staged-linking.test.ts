import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSampleTree } from '../../lib/adapters/sample-tree';
import { readTreeManifest } from '../../lib/adapters/tree-manifest';
import type { TreeManifest } from '../../lib/core/tree-diff';
import { type LocalSession, startLocalSession } from '../support/local-session';

describe('staged linking, sync and provision on the local engine', () => {
  let session: LocalSession;
  let source: string;
  let dsourceId: string;
  let firstSnapshotId: string;
  let atFirstSync: TreeManifest;

  beforeAll(async () => {
    session = await startLocalSession();
    source = join(session.work, 'source');
    await writeSampleTree(source, { fileCount: 80, largeFileBytes: 1024 * 1024 });
    await writeFile(join(source, 'scratch.tmp'), 'excluded\n');
    atFirstSync = (await readTreeManifest(source)).filter((entry) => entry.path !== 'scratch.tmp');
  });

  afterAll(async () => {
    await session?.close();
  });

  const snapshotTree = async (id: string) => readTreeManifest((await session.local.engine.getSnapshot(id)).path);

  it('links a source: the first snapshot holds the tree, without excluded files, and no staging mount stays', async () => {
    const environmentId = session.local.environment.id;
    const sourceConfig = await session.local.engine.createSourceConfig({ environmentId, name: 'data', path: source });
    const run = await session.run('link', {
      name: 'data',
      sourceConfigId: sourceConfig.id,
      stagingEnvironmentId: environmentId,
      linkedSource: {
        sourceAddress: 'localhost',
        username: 'root',
        mountLocation: join(session.work, 'mnt', 'staging'),
        excludes: ['*.tmp'],
      },
    });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const output = run.output as { dsourceId: string; snapshotId: string };
    dsourceId = output.dsourceId;
    firstSnapshotId = output.snapshotId;
    expect(await snapshotTree(firstSnapshotId)).toEqual(atFirstSync);
    expect(await session.mounts()).toEqual([]);
    const snapshot = await session.local.engine.getSnapshot(firstSnapshotId);
    expect(snapshot.datasetId).toBe(dsourceId);
    expect(snapshot.provenance.filesTransferred).toBe(atFirstSync.filter((entry) => entry.type === 'file').length - 1);
    expect(snapshot.provenance.snapshotParameters).toEqual({ resync: true });
  });

  it('syncs a deletion into the new snapshot only', async () => {
    const deleted = 'dir-0/sub-0/file-3.dat';
    await rm(join(source, deleted));
    const run = await session.run('sync', {
      dsourceId,
      snapshotParameters: { resync: false },
      trigger: { kind: 'api' },
    });
    expect(run.status).toBe('SUCCEEDED');
    const second = await snapshotTree((run.output as { snapshotId: string }).snapshotId);
    expect(second.some((entry) => entry.path === deleted)).toBe(false);
    expect(second).toEqual((await readTreeManifest(source)).filter((entry) => entry.path !== 'scratch.tmp'));
    expect(await snapshotTree(firstSnapshotId)).toEqual(atFirstSync);
  });

  it('provisions a writable VDB whose writes leave the snapshot untouched', async () => {
    const mountLocation = join(session.work, 'mnt', 'vdb');
    const run = await session.run('provision', {
      name: 'vdb',
      snapshotId: firstSnapshotId,
      environmentId: session.local.environment.id,
      virtualSource: { mountLocation },
    });
    expect(run.status).toBe('SUCCEEDED');
    const { vdbId } = run.output as { vdbId: string };
    expect(await readTreeManifest(mountLocation)).toEqual(atFirstSync);
    expect(await session.mounts()).toEqual([mountLocation]);
    const vdb = await session.local.engine.getVdb(vdbId);
    expect(vdb.status).toBe('RUNNING');
    expect(vdb.sourceConfig).toEqual({ name: `VDB mounted at ${mountLocation}`, path: mountLocation });

    await writeFile(join(mountLocation, 'dir-0/sub-0/file-0.dat'), 'changed in the VDB');
    await rm(join(mountLocation, 'large.bin'));
    expect(await snapshotTree(firstSnapshotId)).toEqual(atFirstSync);
  });
});
