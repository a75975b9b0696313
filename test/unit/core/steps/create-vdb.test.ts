import { describe, expect, it } from 'vitest';
import { ErrorNames, SnapflowError } from '../../../../lib/core/errors';
import { createVdb } from '../../../../lib/core/steps/create-vdb';
import { seedSnapshot } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

async function setUp() {
  const engine = new FakeEngine();
  const { snapshot, targetHost } = await seedSnapshot(engine);
  const input = {
    vdb: {
      name: 'dev copy',
      snapshotId: snapshot.id,
      environmentId: targetHost.id,
      parameters: { mountLocation: '/mnt/vdbs/dev' },
    },
    target: { hostId: 'i-0target', mountPath: '/mnt/vdbs/dev' },
  };
  return { engine, snapshot, input };
}

describe('createVdb', () => {
  it('clones the snapshot, exports the clone writable and plans its mount and unmount', async () => {
    const { engine, snapshot, input } = await setUp();

    const { vdbId, timeflowId, mount, unmount } = await createVdb(input, { engine });

    expect(engine.vdbs.get(vdbId)).toMatchObject({
      name: 'dev copy',
      parentSnapshotId: snapshot.id,
      parameters: { mountLocation: '/mnt/vdbs/dev' },
      status: 'PROVISIONING',
      currentTimeflowId: timeflowId,
    });
    expect(mount).toEqual({
      document: 'mount',
      hostId: 'i-0target',
      parameters: {
        ExportKind: ['bind'],
        Source: [`/var/lib/snapflow/timeflows/${timeflowId}`],
        MountPath: ['/mnt/vdbs/dev'],
        Access: ['rw'],
      },
    });
    // The undo unmounts only the clone: what made a mount fail at the mount location stays.
    expect(unmount).toEqual({
      document: 'unmount',
      hostId: 'i-0target',
      parameters: { MountPath: ['/mnt/vdbs/dev'], Source: [`/var/lib/snapflow/timeflows/${timeflowId}`] },
    });
  });

  it('creates the VDB with the id the request chose', async () => {
    const { engine, input } = await setUp();

    const { vdbId } = await createVdb({ ...input, vdb: { ...input.vdb, id: 'vdb-00000000000000aa' } }, { engine });

    expect(vdbId).toBe('vdb-00000000000000aa');
  });

  it('deletes the new VDB again when the export fails', async () => {
    const { engine, input } = await setUp();
    engine.failNext(
      'exportDataset',
      new SnapflowError(ErrorNames.Storage, 'export failed', { action: 'Check the engine log.' }),
    );

    await expect(createVdb(input, { engine })).rejects.toMatchObject({ name: 'StorageError' });
    expect(engine.vdbs.size).toBe(0);
  });
});
