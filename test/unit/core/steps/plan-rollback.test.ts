import { describe, expect, it } from 'vitest';
import { planRollback } from '../../../../lib/core/steps/plan-rollback';
import { seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('planRollback', () => {
  it("plans going back to one of the VDB's own snapshots", async () => {
    const engine = new FakeEngine();
    const { vdb, vdbSnapshot } = await seedVdb(engine);

    await expect(planRollback({ vdbId: vdb.id, snapshotId: vdbSnapshot.id }, { engine })).resolves.toMatchObject({
      vdbId: vdb.id,
      snapshotId: vdbSnapshot.id,
      previousTimeflowId: vdb.currentTimeflowId,
    });
  });

  it('throws ValidationError naming snapshotId when it is missing or of another dataset', async () => {
    const engine = new FakeEngine();
    const { vdb, snapshot } = await seedVdb(engine);

    await expect(planRollback({ vdbId: vdb.id }, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'input.snapshotId',
    });
    await expect(planRollback({ vdbId: vdb.id, snapshotId: snapshot.id }, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'snapshotId',
      message: expect.stringContaining(`not of VDB ${vdb.id}`),
    });
  });

  it('throws ConflictError for a stopped VDB', async () => {
    const engine = new FakeEngine();
    const { vdb, vdbSnapshot } = await seedVdb(engine);
    await engine.updateVdb(vdb.id, { status: 'STOPPED' });

    await expect(planRollback({ vdbId: vdb.id, snapshotId: vdbSnapshot.id }, { engine })).rejects.toMatchObject({
      name: 'ConflictError',
      action: expect.stringContaining('start-vdb'),
    });
  });
});
