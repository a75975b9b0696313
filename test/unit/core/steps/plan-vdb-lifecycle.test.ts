import { afterEach, describe, expect, it, vi } from 'vitest';
import { planVdbLifecycle } from '../../../../lib/core/steps/plan-vdb-lifecycle';
import { operations } from '../../../../lib/plugins/directory-tree/operations';
import { seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('planVdbLifecycle', () => {
  it.each([
    ['start-vdb', []],
    ['stop-vdb', ['stop']],
    ['disable-vdb', ['unconfigure']],
    ['delete-vdb', ['unconfigure', 'cleanup']],
  ] as const)('%s runs %j before its host step and plans mount and unmount', async (workflow, expected) => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);
    const called: string[] = [];
    for (const operation of ['stop', 'unconfigure', 'cleanup', 'start'] as const) {
      vi.spyOn(operations.virtual, operation).mockImplementation(() => {
        called.push(operation);
      });
    }

    const plan = await planVdbLifecycle({ workflow, request: { vdbId: vdb.id } }, { engine });

    expect(called).toEqual(expected);
    expect(plan).toMatchObject({
      vdbId: vdb.id,
      mounted: true,
      mount: { document: 'mount' },
      unmount: { document: 'unmount' },
    });
  });

  it('enable-vdb asks virtual.status, also of a disabled VDB', async () => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);
    await engine.updateVdb(vdb.id, { enabled: false, status: 'STOPPED' });

    await expect(
      planVdbLifecycle({ workflow: 'enable-vdb', request: { vdbId: vdb.id } }, { engine }),
    ).resolves.toMatchObject({ pluginStatus: 'INACTIVE', mounted: false });
  });

  it.each(['start-vdb', 'stop-vdb'] as const)('%s refuses a disabled VDB', async (workflow) => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);
    await engine.updateVdb(vdb.id, { enabled: false, status: 'STOPPED' });

    await expect(planVdbLifecycle({ workflow, request: { vdbId: vdb.id } }, { engine })).rejects.toMatchObject({
      name: 'ConflictError',
      field: 'vdbId',
    });
  });

  it('delete-vdb refuses a VDB others depend on, listing them, before any plugin operation', async () => {
    const engine = new FakeEngine();
    const { vdb, vdbSnapshot } = await seedVdb(engine);
    const child = await engine.createVdb({
      name: 'child',
      snapshotId: vdbSnapshot.id,
      environmentId: vdb.environmentId,
      parameters: { mountLocation: '/mnt/vdbs/child' },
    });
    const unconfigure = vi.spyOn(operations.virtual, 'unconfigure');

    await expect(
      planVdbLifecycle({ workflow: 'delete-vdb', request: { vdbId: vdb.id } }, { engine }),
    ).rejects.toMatchObject({
      name: 'DependentsExistError',
      field: 'vdbId',
      message: `VDB ${vdb.id} cannot be deleted: 1 depend on it: vdb ${child.id} (VDB ${child.id} was provisioned from snapshot ${vdbSnapshot.id})`,
    });
    expect(unconfigure).not.toHaveBeenCalled();
  });

  it("validates the request against the workflow's schema", async () => {
    const engine = new FakeEngine();

    await expect(
      planVdbLifecycle({ workflow: 'stop-vdb', request: { vdbId: 'vdb-1' } }, { engine }),
    ).rejects.toMatchObject({ name: 'ValidationError', field: 'input.vdbId' });
    expect(engine.calls).toEqual([]);
  });
});
