import { describe, expect, it } from 'vitest';
import { deleteVdb } from '../../../../lib/core/steps/delete-vdb';
import { seedSnapshot } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('deleteVdb', () => {
  it('deletes the VDB', async () => {
    const engine = new FakeEngine();
    const { snapshot, targetHost } = await seedSnapshot(engine);
    const vdb = await engine.createVdb({
      name: 'dev copy',
      snapshotId: snapshot.id,
      environmentId: targetHost.id,
      parameters: { mountLocation: '/mnt/vdbs/dev' },
    });

    await expect(deleteVdb({ vdbId: vdb.id }, { engine })).resolves.toEqual({ vdbId: vdb.id });
    expect(engine.vdbs.size).toBe(0);
  });

  it('counts a VDB that is already gone as deleted', async () => {
    const engine = new FakeEngine();

    await expect(deleteVdb({ vdbId: 'vdb-00000000000000ff' }, { engine })).resolves.toEqual({
      vdbId: 'vdb-00000000000000ff',
    });
  });

  it('rethrows any other error', async () => {
    const engine = new FakeEngine();
    const outage = new Error('socket hang up');
    engine.failNext('deleteVdb', outage);

    await expect(deleteVdb({ vdbId: 'vdb-00000000000000ff' }, { engine })).rejects.toBe(outage);
  });
});
