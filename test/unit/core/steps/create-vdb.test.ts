import { describe, expect, it } from 'vitest';
import { ErrorNames, SnapflowError } from '../../../../lib/core/errors';
import { createVdb } from '../../../../lib/core/steps/create-vdb';
import { seedSnapshot } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

async function setUp() {
  const engine = new FakeEngine();
  const { snapshot, targetHost } = await seedSnapshot(engine);
  const input = {
    name: 'dev copy',
    snapshotId: snapshot.id,
    environmentId: targetHost.id,
    virtualSource: { mountLocation: '/mnt/vdbs/dev/' },
    target: { hostId: 'i-0target', mountPath: '/mnt/vdbs/dev' },
  };
  return { engine, snapshot, input };
}

describe('createVdb', () => {
  it('clones the snapshot, exports the clone writable and plans its mount and unmount', async () => {
    const { engine, snapshot, input } = await setUp();

    const { vdbId, mount, unmount } = await createVdb(input, { engine });

    expect(engine.vdbs.get(vdbId)).toMatchObject({
      name: 'dev copy',
      parentSnapshotId: snapshot.id,
      parameters: { mountLocation: '/mnt/vdbs/dev' },
      status: 'PROVISIONING',
    });
    expect(mount).toEqual({
      document: 'mount',
      hostId: 'i-0target',
      parameters: {
        ExportKind: ['bind'],
        Source: [`/var/lib/snapflow/datasets/${vdbId}`],
        MountPath: ['/mnt/vdbs/dev'],
        Access: ['rw'],
      },
    });
    expect(unmount).toEqual({ document: 'unmount', hostId: 'i-0target', parameters: { MountPath: ['/mnt/vdbs/dev'] } });
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
