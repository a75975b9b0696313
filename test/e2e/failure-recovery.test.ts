import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTreeManifest } from '../../lib/adapters/tree-manifest';
import type { TreeManifest } from '../../lib/core/tree-diff';
import { expectTree, linkSampleTree, poolStorage, recordedStorage, succeeded } from '../support/e2e-checks';
import { HostFailures } from '../support/failing-host-runner';
import { type LocalSession, startLocalSession } from '../support/local-session';

/**
 * Host commands that fail half-way through provision, refresh and rollback: each workflow fails with
 * the host's error and leaves the VDB serving exactly the data it served before, with no timeflow,
 * clone, mount or record left over.
 */
describe('failures half-way through provision, refresh and rollback', () => {
  const failures = new HostFailures();
  let session: LocalSession;
  let source: string;
  let vdbMount: string;
  let dsourceId: string;
  let vdbId: string;
  let snapshotId: string;
  /** The VDB's tree and timeflows before each failing workflow. */
  let before: { tree: TreeManifest; timeflowIds: string[]; currentTimeflowId: string };

  const engine = () => session.local.engine;

  /** Everything a failed workflow could leave behind, or change. */
  async function expectNothingChanged() {
    const vdb = await engine().getVdb(vdbId);
    expect(vdb).toMatchObject({ status: 'RUNNING', enabled: true, currentTimeflowId: before.currentTimeflowId });
    expect(vdb.sourceConfig).toEqual({ name: `VDB mounted at ${vdbMount}`, path: vdbMount });
    await expectTree(vdbMount, before.tree);
    expect((await engine().listTimeflows({ datasetId: vdbId })).map((timeflow) => timeflow.id)).toEqual(
      before.timeflowIds,
    );
    expect(await session.mounts()).toEqual([vdbMount]);
    expect(await poolStorage(session)).toEqual(await recordedStorage(session));
  }

  beforeAll(async () => {
    session = await startLocalSession({ wrapHostRunner: failures.wrap });
    vdbMount = join(session.work, 'mnt', 'vdb');
    ({ source, dsourceId, snapshotId } = await linkSampleTree(session, { fileCount: 40, largeFileBytes: 128 * 1024 }));
  });

  afterAll(async () => {
    await session?.close();
  });

  async function remember() {
    const vdb = await engine().getVdb(vdbId);
    before = {
      tree: await readTreeManifest(vdbMount),
      timeflowIds: (await engine().listTimeflows({ datasetId: vdbId })).map((timeflow) => timeflow.id),
      currentTimeflowId: vdb.currentTimeflowId,
    };
  }

  it('provision: a failed mount leaves no VDB, timeflow, storage or mount behind', async () => {
    const storage = await poolStorage(session);
    failures.failNext('mount');

    const run = await session.run('provision', {
      name: 'vdb',
      snapshotId,
      environmentId: session.local.environment.id,
      virtualSource: { mountLocation: vdbMount },
    });

    expect(run).toMatchObject({ status: 'FAILED', error: { name: 'HostCommandFailedError' } });
    expect(failures.failed).toEqual(['mount']);
    expect(await engine().listVdbs()).toEqual([]);
    expect(await poolStorage(session)).toEqual(storage);
    expect(await recordedStorage(session)).toEqual(storage);
    expect(await session.mounts()).toEqual([]);
    // The failed command created no mount point; a real one that failed would leave it empty.
    expect(existsSync(vdbMount) ? await readdir(vdbMount) : []).toEqual([]);
  });

  it('provisions the VDB once the host works again, and writes into it', async () => {
    vdbId = succeeded<{ vdbId: string }>(
      await session.run('provision', {
        name: 'vdb',
        snapshotId,
        environmentId: session.local.environment.id,
        virtualSource: { mountLocation: vdbMount },
      }),
    ).vdbId;
    await writeFile(join(vdbMount, 'local-change.txt'), 'written in the VDB, never snapshotted\n');
    await writeFile(join(vdbMount, 'dir-0', 'sub-0', 'file-0.dat'), 'changed in the VDB\n');
  });

  it('refresh: a failed mount of the new timeflow puts the previous one back, with its data', async () => {
    await writeFile(join(source, 'newer.txt'), 'newer data in the source\n');
    succeeded(
      await session.run('sync', { dsourceId, snapshotParameters: { resync: false }, trigger: { kind: 'api' } }),
    );
    await remember();
    failures.failNext('mount');

    const run = await session.run('refresh', { vdbId });

    expect(run).toMatchObject({ status: 'FAILED', error: { name: 'HostCommandFailedError' } });
    expect(run.error?.cause).toContain('the mount command failed on purpose');
    await expectNothingChanged();
  });

  it('rollback: a failed mount of the new timeflow puts the previous one back, with its data', async () => {
    const vdbSnapshot = succeeded<{ snapshotId: string }>(
      await session.run('snapshot-vdb', { vdbId, trigger: { kind: 'api' } }),
    ).snapshotId;
    await writeFile(join(vdbMount, 'after-the-snapshot.txt'), 'would be lost by the rollback\n');
    await remember();
    failures.failNext('mount');

    const run = await session.run('rollback', { vdbId, snapshotId: vdbSnapshot });

    expect(run).toMatchObject({ status: 'FAILED', error: { name: 'HostCommandFailedError' } });
    await expectNothingChanged();
  });

  it('rollback: an unmount refused because a process uses the VDB leaves it mounted and configured', async () => {
    const [vdbSnapshot] = await engine().listSnapshots({ datasetId: vdbId });
    await remember();
    const user = spawn('sleep', ['60'], { cwd: join(vdbMount, 'dir-0'), stdio: 'ignore' });
    try {
      const run = await session.run('rollback', { vdbId, snapshotId: vdbSnapshot?.id as string });

      expect(run).toMatchObject({ status: 'FAILED', error: { name: 'MountPointBusyError' } });
      expect(run.error?.cause).toContain(`virtualSource.mountLocation ${vdbMount} is still in use`);
    } finally {
      user.kill('SIGKILL');
      await new Promise((resolve) => user.once('exit', resolve));
    }
    await expectNothingChanged();
  });

  it('refresh succeeds once the host works again, bringing the newer data', async () => {
    succeeded(await session.run('refresh', { vdbId }));

    await expectTree(vdbMount, await readTreeManifest(source));
    expect(await session.mounts()).toEqual([vdbMount]);
  });
});
