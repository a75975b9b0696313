import { describe, expect, it } from 'vitest';
import { createTimeflow } from '../../../../lib/core/steps/create-timeflow';
import { seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

async function setUp() {
  const engine = new FakeEngine();
  const seeded = await seedVdb(engine);
  const input = {
    vdbId: seeded.vdb.id,
    snapshotId: seeded.vdbSnapshot.id,
    kind: 'rollback' as const,
    previousTimeflowId: seeded.vdb.currentTimeflowId,
    target: { hostId: 'i-0target', mountPath: '/mnt/vdbs/dev' },
  };
  return { engine, ...seeded, input };
}

describe('createTimeflow', () => {
  it('clones the snapshot into a new current timeflow and plans its mount and its own unmount', async () => {
    const { engine, vdb, input } = await setUp();

    const { timeflowId, mount, unmount } = await createTimeflow(input, { engine });

    expect(engine.vdbs.get(vdb.id)?.currentTimeflowId).toBe(timeflowId);
    expect(engine.timeflows.get(timeflowId)).toMatchObject({ kind: 'rollback', parentSnapshotId: input.snapshotId });
    expect(mount).toMatchObject({
      document: 'mount',
      parameters: { Source: [`/var/lib/snapflow/timeflows/${timeflowId}`], MountPath: ['/mnt/vdbs/dev'] },
    });
    expect(unmount).toEqual({
      document: 'unmount',
      hostId: 'i-0target',
      parameters: { MountPath: ['/mnt/vdbs/dev'], Source: [`/var/lib/snapflow/timeflows/${timeflowId}`] },
    });
  });

  it('uses the timeflow a first call made when called again, cloning nothing more', async () => {
    const { engine, input } = await setUp();
    const first = await createTimeflow(input, { engine });

    const again = await createTimeflow(input, { engine });

    expect(again).toEqual(first);
    expect(engine.methods.filter((method) => method === 'createTimeflow')).toHaveLength(1);
  });

  it('throws ConflictError when another workflow changed the timeflow since the plan', async () => {
    const { engine, vdb, input, snapshot } = await setUp();
    await engine.createTimeflow(vdb.id, { snapshotId: snapshot.id, kind: 'refresh' });

    await expect(createTimeflow(input, { engine })).rejects.toMatchObject({
      name: 'ConflictError',
      field: 'vdbId',
      message: expect.stringContaining('while this rollback ran'),
    });
  });
});
