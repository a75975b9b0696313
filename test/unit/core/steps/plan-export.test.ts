import { describe, expect, it } from 'vitest';
import { planExport } from '../../../../lib/core/steps/plan-export';
import { seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

async function setUp() {
  const engine = new FakeEngine();
  const seeded = await seedVdb(engine);
  const request = { vdbId: seeded.vdb.id, environmentId: seeded.targetHost.id, targetPath: '/srv/exports//dev/' };
  return { engine, ...seeded, request };
}

describe('planExport', () => {
  it("exports the VDB's latest snapshot and plans mount in scratch space, copy and unmount", async () => {
    const { engine, vdb, vdbSnapshot, request } = await setUp();
    const later = await engine.snapshotDataset(vdb.id, {
      provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
      metadata: {},
    });

    const plan = await planExport({ request, executionName: 'job:1/2' }, { engine });

    const scratch = '/var/tmp/snapflow/v2p-job_1_2';
    expect(plan).toEqual({
      vdbId: vdb.id,
      snapshotId: later.id,
      targetPath: '/srv/exports/dev',
      mount: {
        document: 'mount',
        hostId: 'i-0target',
        parameters: { ExportKind: ['bind'], Source: [later.path], MountPath: [scratch], Access: ['ro'] },
      },
      export: {
        document: 'export',
        hostId: 'i-0target',
        parameters: { Source: [scratch], Destination: ['/srv/exports/dev'] },
      },
      unmount: {
        document: 'unmount',
        hostId: 'i-0target',
        parameters: { MountPath: [scratch], RemoveMountPoint: ['true'] },
      },
    });
    expect(later.id).not.toBe(vdbSnapshot.id);
  });

  it("exports the snapshot named when it is the VDB's own", async () => {
    const { engine, vdbSnapshot, request } = await setUp();

    await expect(
      planExport({ request: { ...request, snapshotId: vdbSnapshot.id }, executionName: 'x' }, { engine }),
    ).resolves.toMatchObject({ snapshotId: vdbSnapshot.id });
  });

  it.each([
    ['a relative path', 'srv/x', 'targetPath'],
    ['a system directory', '/etc/x', 'targetPath'],
    ['the mount location of a VDB on that host', '/mnt/vdbs/dev/sub', 'targetPath'],
  ])('throws ValidationError for %s, before exporting anything', async (_, targetPath, field) => {
    const { engine, request } = await setUp();

    await expect(
      planExport({ request: { ...request, targetPath }, executionName: 'x' }, { engine }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      field: expect.stringContaining(field),
    });
    expect(engine.methods).not.toContain('exportSnapshot');
  });

  it("throws ValidationError for a target overlapping a dSource's staging mount on that host, but not on another", async () => {
    const { engine, request, stagingHost, dsource } = await setUp();

    await expect(
      planExport(
        { request: { ...request, environmentId: stagingHost.id, targetPath: '/mnt/staging' }, executionName: 'x' },
        { engine },
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'targetPath',
      message: `targetPath /mnt/staging overlaps the staging mount location /mnt/staging/data of dSource ${dsource.id}`,
    });
    expect(engine.methods).not.toContain('exportSnapshot');
    await expect(
      planExport({ request: { ...request, targetPath: '/mnt/staging' }, executionName: 'x' }, { engine }),
    ).resolves.toMatchObject({ targetPath: '/mnt/staging' });
  });

  it("throws ValidationError for a target in or around the engine's storage, on any host", async () => {
    // Prepare: the fake's pool moved out of the system directories, to /srv/pool.
    const { engine, request, vdb } = await setUp();
    const moved = (path: string) => path.replace('/var/lib/snapflow', '/srv/pool');
    for (const [id, snapshot] of engine.snapshots)
      engine.snapshots.set(id, { ...snapshot, path: moved(snapshot.path) });
    for (const [id, timeflow] of engine.timeflows)
      engine.timeflows.set(id, { ...timeflow, path: moved(timeflow.path) });
    const vdbTimeflow = await engine.getTimeflow(vdb.currentTimeflowId);

    // Act
    const around = planExport({ request: { ...request, targetPath: '/srv/pool' }, executionName: 'x' }, { engine });
    const inside = planExport(
      { request: { ...request, targetPath: `${vdbTimeflow.path}/copy` }, executionName: 'x' },
      { engine },
    );

    // Assess
    await expect(around).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'targetPath',
      message: expect.stringMatching(
        /^targetPath \/srv\/pool overlaps the storage \/srv\/pool\/\S+ of (timeflow|snapshot) /,
      ),
    });
    await expect(inside).rejects.toMatchObject({
      name: 'ValidationError',
      message: `targetPath ${vdbTimeflow.path}/copy overlaps the storage ${vdbTimeflow.path} of timeflow ${vdbTimeflow.id}`,
    });
    expect(engine.methods).not.toContain('exportSnapshot');
  });

  it('allows the VDB mount location path on another host', async () => {
    const { engine, request } = await setUp();
    const other = await engine.createEnvironment({ name: 'other', hostId: 'i-0other', scratchPath: '/scratch' });

    await expect(
      planExport(
        { request: { ...request, environmentId: other.id, targetPath: '/mnt/vdbs/dev' }, executionName: 'x' },
        { engine },
      ),
    ).resolves.toMatchObject({ mount: { hostId: 'i-0other', parameters: { MountPath: ['/scratch/v2p-x'] } } });
  });

  it('throws ValidationError naming environmentId when its scratch path lies in a system directory', async () => {
    const { engine, request } = await setUp();
    const other = await engine.createEnvironment({ name: 'other', hostId: 'i-0other', scratchPath: '/var/lib/x' });

    await expect(
      planExport({ request: { ...request, environmentId: other.id }, executionName: 'x' }, { engine }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'environmentId',
      message: `environmentId ${other.id} has the scratch path /var/lib/x, where the snapshot's mount point is inside the system directory /var/lib`,
    });
    expect(engine.methods).not.toContain('exportSnapshot');
  });

  it('throws NotFoundError naming environmentId for an unknown host', async () => {
    const { engine, request } = await setUp();

    await expect(
      planExport({ request: { ...request, environmentId: 'env-00000000000000ff' }, executionName: 'x' }, { engine }),
    ).rejects.toMatchObject({ name: 'NotFoundError', field: 'environmentId' });
  });
});
