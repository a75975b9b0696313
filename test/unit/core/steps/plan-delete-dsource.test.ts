import { describe, expect, it, vi } from 'vitest';
import { planDeleteDSource } from '../../../../lib/core/steps/plan-delete-dsource';
import { operations } from '../../../../lib/plugins/directory-tree/operations';
import { seedSnapshot, seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('planDeleteDSource', () => {
  it('stops staging and plans the unmount of the staging mount, of its own storage only', async () => {
    const engine = new FakeEngine();
    const { dsource } = await seedSnapshot(engine);
    const stopStaging = vi.spyOn(operations.linked, 'stopStaging');

    await expect(planDeleteDSource({ dsourceId: dsource.id }, { engine })).resolves.toEqual({
      dsourceId: dsource.id,
      unmount: {
        document: 'unmount',
        hostId: 'i-0staging',
        parameters: {
          MountPath: ['/mnt/staging/data'],
          Source: [`/var/lib/snapflow/timeflows/${dsource.currentTimeflowId}`],
        },
      },
    });
    expect(stopStaging).toHaveBeenCalledOnce();
    stopStaging.mockRestore();
  });

  it('throws DependentsExistError naming dsourceId and the VDBs that use its snapshots', async () => {
    const engine = new FakeEngine();
    const { dsource, vdb } = await seedVdb(engine);

    await expect(planDeleteDSource({ dsourceId: dsource.id }, { engine })).rejects.toMatchObject({
      name: 'DependentsExistError',
      field: 'dsourceId',
      message: expect.stringContaining(`vdb ${vdb.id}`),
      action: expect.stringContaining('Delete the dependents'),
    });
  });

  it('throws NotFoundError naming dsourceId for an unknown dSource', async () => {
    await expect(
      planDeleteDSource({ dsourceId: 'ds-00000000000000ff' }, { engine: new FakeEngine() }),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'dsourceId',
    });
  });
});
