import { describe, expect, it } from 'vitest';
import { deleteSnapshot } from '../../../../lib/core/steps/delete-snapshot';
import { seedSnapshot, seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('deleteSnapshot', () => {
  it('deletes the snapshot, and counts one that is already gone as deleted', async () => {
    const engine = new FakeEngine();
    const { snapshot } = await seedSnapshot(engine);

    await expect(deleteSnapshot({ snapshotId: snapshot.id }, { engine })).resolves.toEqual({ snapshotId: snapshot.id });
    await expect(deleteSnapshot({ snapshotId: snapshot.id }, { engine })).resolves.toEqual({ snapshotId: snapshot.id });
    expect(engine.snapshots.has(snapshot.id)).toBe(false);
  });

  it('refuses, with the engine, a snapshot a VDB was provisioned from', async () => {
    const engine = new FakeEngine();
    const { snapshot } = await seedVdb(engine);

    await expect(deleteSnapshot({ snapshotId: snapshot.id }, { engine })).rejects.toMatchObject({
      name: 'DependentsExistError',
    });
    expect(engine.snapshots.has(snapshot.id)).toBe(true);
  });
});
