import { describe, expect, it, vi } from 'vitest';
import { planRefresh } from '../../../../lib/core/steps/plan-refresh';
import { operations } from '../../../../lib/plugins/directory-tree/operations';
import { seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

async function setUp() {
  const engine = new FakeEngine();
  const seeded = await seedVdb(engine);
  const newer = await engine.snapshotDataset(seeded.dsource.id, {
    provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
    metadata: {},
  });
  engine.calls.length = 0;
  return { engine, ...seeded, newer };
}

describe('planRefresh', () => {
  it("chooses the parent's latest snapshot, unconfigures and plans the unmount, changing nothing", async () => {
    const { engine, vdb, newer } = await setUp();
    const unconfigure = vi.spyOn(operations.virtual, 'unconfigure');

    const plan = await planRefresh({ vdbId: vdb.id }, { engine });

    expect(plan).toEqual({
      vdbId: vdb.id,
      snapshotId: newer.id,
      previousTimeflowId: vdb.currentTimeflowId,
      target: { hostId: 'i-0target', mountPath: '/mnt/vdbs/dev' },
      unmount: { document: 'unmount', hostId: 'i-0target', parameters: { MountPath: ['/mnt/vdbs/dev'] } },
    });
    expect(unconfigure).toHaveBeenCalledOnce();
    expect(engine.methods).toEqual(['getVdb', 'getEnvironment', 'listSnapshots']);
    unconfigure.mockRestore();
  });

  it('takes an older snapshot of the parent when named', async () => {
    const { engine, vdb, snapshot } = await setUp();

    await expect(planRefresh({ vdbId: vdb.id, snapshotId: snapshot.id }, { engine })).resolves.toMatchObject({
      snapshotId: snapshot.id,
    });
  });

  it("throws ValidationError naming snapshotId for the VDB's own snapshot", async () => {
    const { engine, vdb, vdbSnapshot, dsource } = await setUp();

    await expect(planRefresh({ vdbId: vdb.id, snapshotId: vdbSnapshot.id }, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'snapshotId',
      message: `snapshotId ${vdbSnapshot.id} is a snapshot of ${vdb.id}, not of the parent ${dsource.id} of VDB ${vdb.id}`,
    });
  });

  it('throws ConflictError for a disabled VDB and NotFoundError naming vdbId for an unknown one', async () => {
    const { engine, vdb } = await setUp();
    await engine.updateVdb(vdb.id, { enabled: false, status: 'STOPPED' });

    await expect(planRefresh({ vdbId: vdb.id }, { engine })).rejects.toMatchObject({
      name: 'ConflictError',
      message: `refresh refused: VDB ${vdb.id} is disabled`,
    });
    await expect(planRefresh({ vdbId: 'vdb-00000000000000ff' }, { engine })).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'vdbId',
    });
  });
});
