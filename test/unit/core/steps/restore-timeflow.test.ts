import { describe, expect, it } from 'vitest';
import { restoreTimeflow } from '../../../../lib/core/steps/restore-timeflow';
import { seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

async function setUp() {
  const engine = new FakeEngine();
  const seeded = await seedVdb(engine);
  const input = {
    vdbId: seeded.vdb.id,
    previousTimeflowId: seeded.vdb.currentTimeflowId,
    target: { hostId: 'i-0target', mountPath: '/mnt/vdbs/dev' },
  };
  return { engine, ...seeded, input };
}

describe('restoreTimeflow', () => {
  it('switches back to the previous timeflow, deletes the new one and plans the mount of the previous', async () => {
    const { engine, vdb, vdbSnapshot, input } = await setUp();
    const { timeflow } = await engine.createTimeflow(vdb.id, { snapshotId: vdbSnapshot.id, kind: 'rollback' });

    const { mount } = await restoreTimeflow(input, { engine });

    expect(engine.vdbs.get(vdb.id)?.currentTimeflowId).toBe(input.previousTimeflowId);
    expect(engine.timeflows.has(timeflow.id)).toBe(false);
    expect(mount.parameters.Source).toEqual([`/var/lib/snapflow/timeflows/${input.previousTimeflowId}`]);
  });

  it('only plans the mount when no new timeflow was made, and can run twice', async () => {
    const { engine, input } = await setUp();

    const first = await restoreTimeflow(input, { engine });
    const second = await restoreTimeflow(input, { engine });

    expect(second).toEqual(first);
    expect(engine.methods).not.toContain('switchTimeflow');
    expect(engine.methods).not.toContain('deleteTimeflow');
  });
});
