import { describe, expect, it } from 'vitest';
import { resolveSnapshot } from '../../../../lib/core/steps/resolve-snapshot';
import { seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

async function setUp() {
  const engine = new FakeEngine();
  const seeded = await seedVdb(engine);
  const newer = await engine.snapshotDataset(seeded.dsource.id, {
    provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
    metadata: {},
  });
  const choice = { datasetId: seeded.dsource.id, whose: `dSource ${seeded.dsource.id}`, datasetField: 'sourceDataId' };
  return { engine, ...seeded, newer, choice };
}

describe('resolveSnapshot', () => {
  it("takes the dataset's latest snapshot when none is named", async () => {
    const { engine, newer, choice } = await setUp();

    await expect(resolveSnapshot(engine, choice)).resolves.toEqual(newer);
  });

  it('takes the snapshot named when it belongs to the dataset', async () => {
    const { engine, snapshot, choice } = await setUp();

    await expect(resolveSnapshot(engine, { ...choice, snapshotId: snapshot.id })).resolves.toEqual(snapshot);
  });

  it('throws ValidationError naming snapshotId for a snapshot of another dataset', async () => {
    const { engine, vdb, vdbSnapshot, dsource, choice } = await setUp();

    await expect(resolveSnapshot(engine, { ...choice, snapshotId: vdbSnapshot.id })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'snapshotId',
      message: `snapshotId ${vdbSnapshot.id} is a snapshot of ${vdb.id}, not of dSource ${dsource.id}`,
    });
  });

  it('throws NotFoundError naming snapshotId, or the dataset field, for what does not exist', async () => {
    const { engine, choice } = await setUp();

    await expect(resolveSnapshot(engine, { ...choice, snapshotId: 'snap-00000000000000ff' })).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'snapshotId',
    });
    await expect(resolveSnapshot(engine, { ...choice, datasetId: 'ds-00000000000000ff' })).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'sourceDataId',
    });
  });
});
