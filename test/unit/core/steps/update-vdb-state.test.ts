import { describe, expect, it, vi } from 'vitest';
import { updateVdbState } from '../../../../lib/core/steps/update-vdb-state';
import { operations } from '../../../../lib/plugins/directory-tree/operations';
import { seedSnapshot, seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('updateVdbState', () => {
  it("configures a newly mounted VDB: records the plugin's source config and RUNNING", async () => {
    const engine = new FakeEngine();
    const { snapshot, targetHost } = await seedSnapshot(engine);
    const vdb = await engine.createVdb({
      name: 'dev',
      snapshotId: snapshot.id,
      environmentId: targetHost.id,
      parameters: { mountLocation: '/mnt/vdbs/dev' },
    });

    const state = await updateVdbState({ vdbId: vdb.id, operation: 'configure', status: 'RUNNING' }, { engine });

    expect(state).toEqual({ vdbId: vdb.id, status: 'RUNNING', enabled: true });
    expect(engine.vdbs.get(vdb.id)?.sourceConfig).toEqual({
      name: 'VDB mounted at /mnt/vdbs/dev',
      path: '/mnt/vdbs/dev',
    });
  });

  it('reconfigures with the existing source config, and records enabled when told', async () => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);
    await engine.updateVdb(vdb.id, { enabled: false, status: 'STOPPED' });
    const reconfigure = vi.spyOn(operations.virtual, 'reconfigure');

    const state = await updateVdbState(
      { vdbId: vdb.id, operation: 'reconfigure', status: 'RUNNING', enabled: true },
      { engine },
    );

    expect(state).toEqual({ vdbId: vdb.id, status: 'RUNNING', enabled: true });
    expect(reconfigure).toHaveBeenCalledWith(vdb.sourceConfig);
    reconfigure.mockRestore();
  });

  it('runs virtual.start without touching the source config', async () => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);
    const start = vi.spyOn(operations.virtual, 'start');

    await updateVdbState({ vdbId: vdb.id, operation: 'start', status: 'RUNNING' }, { engine });

    expect(start).toHaveBeenCalledOnce();
    expect(engine.calls.find((call) => call.method === 'updateVdb')?.args).toEqual([vdb.id, { status: 'RUNNING' }]);
    start.mockRestore();
  });

  it('records STOPPED and disabled with no plugin operation', async () => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);

    await expect(updateVdbState({ vdbId: vdb.id, status: 'STOPPED', enabled: false }, { engine })).resolves.toEqual({
      vdbId: vdb.id,
      status: 'STOPPED',
      enabled: false,
    });
  });

  it('throws ConflictError when a VDB that was never configured is to be reconfigured', async () => {
    const engine = new FakeEngine();
    const { snapshot, targetHost } = await seedSnapshot(engine);
    const vdb = await engine.createVdb({
      name: 'dev',
      snapshotId: snapshot.id,
      environmentId: targetHost.id,
      parameters: { mountLocation: '/mnt/vdbs/dev' },
    });

    await expect(
      updateVdbState({ vdbId: vdb.id, operation: 'reconfigure', status: 'RUNNING' }, { engine }),
    ).rejects.toMatchObject({ name: 'ConflictError', field: 'vdbId' });
    expect(engine.methods).not.toContain('updateVdb');
  });
});
