import { describe, expect, it } from 'vitest';
import { DEFAULT_SNAPSHOT_POLICY } from '../../../../lib/core/snapshot-policy';
import { loadVdb, planVdbHost, requireVdbState } from '../../../../lib/core/steps/load-vdb';
import { seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('loadVdb', () => {
  it('loads the VDB with its environment and mount point', async () => {
    const engine = new FakeEngine();
    const { vdb, targetHost } = await seedVdb(engine);

    await expect(loadVdb(engine, vdb.id)).resolves.toEqual({
      vdb,
      environment: targetHost,
      target: { hostId: 'i-0target', mountPath: '/mnt/vdbs/dev' },
    });
  });

  it('throws NotFoundError naming vdbId', async () => {
    await expect(loadVdb(new FakeEngine(), 'vdb-00000000000000ff')).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'vdbId',
    });
  });
});

describe('planVdbHost', () => {
  it("plans mount and unmount of the VDB's current timeflow, and says whether it is mounted", async () => {
    const engine = new FakeEngine();
    const loaded = await loadVdb(engine, (await seedVdb(engine)).vdb.id);

    const plan = await planVdbHost(engine, loaded);

    expect(plan).toEqual({
      vdbId: loaded.vdb.id,
      mounted: true,
      mount: {
        document: 'mount',
        hostId: 'i-0target',
        parameters: {
          ExportKind: ['bind'],
          Source: [`/var/lib/snapflow/timeflows/${loaded.vdb.currentTimeflowId}`],
          MountPath: ['/mnt/vdbs/dev'],
          Access: ['rw'],
        },
      },
      unmount: {
        document: 'unmount',
        hostId: 'i-0target',
        parameters: {
          MountPath: ['/mnt/vdbs/dev'],
          Source: [`/var/lib/snapflow/timeflows/${loaded.vdb.currentTimeflowId}`],
        },
      },
    });
  });
});

describe('requireVdbState', () => {
  const vdb = {
    id: 'vdb-0000000000000001',
    name: 'dev',
    parentDatasetId: 'ds-0000000000000001',
    parentSnapshotId: 'snap-0000000000000001',
    environmentId: 'env-0000000000000001',
    parameters: { mountLocation: '/mnt/vdbs/dev' },
    status: 'RUNNING' as const,
    enabled: true,
    currentTimeflowId: 'tf-0000000000000001',
    policy: DEFAULT_SNAPSHOT_POLICY,
    createdAt: '',
  };

  it('accepts an enabled, running VDB for anything', () => {
    expect(() => requireVdbState(vdb, 'refresh', { running: true })).not.toThrow();
  });

  it('refuses a PROVISIONING VDB, pointing at delete-vdb', () => {
    expect(() => requireVdbState({ ...vdb, status: 'PROVISIONING' }, 'start-vdb')).toThrow(
      expect.objectContaining({
        name: 'ConflictError',
        field: 'vdbId',
        message: `start-vdb refused: VDB ${vdb.id} is still PROVISIONING`,
        action: expect.stringContaining('delete-vdb'),
      }),
    );
  });

  it('refuses a disabled VDB unless told otherwise, pointing at enable-vdb', () => {
    const disabled = { ...vdb, enabled: false, status: 'STOPPED' as const };

    expect(() => requireVdbState(disabled, 'stop-vdb')).toThrow(
      expect.objectContaining({
        message: `stop-vdb refused: VDB ${vdb.id} is disabled`,
        action: expect.stringContaining('enable-vdb'),
      }),
    );
    expect(() => requireVdbState(disabled, 'enable-vdb', { enabled: false })).not.toThrow();
  });

  it('refuses a stopped VDB where it must run, pointing at start-vdb', () => {
    expect(() => requireVdbState({ ...vdb, status: 'STOPPED' }, 'rollback', { running: true })).toThrow(
      expect.objectContaining({
        message: `rollback refused: VDB ${vdb.id} is STOPPED`,
        action: expect.stringContaining('start-vdb'),
      }),
    );
  });
});
