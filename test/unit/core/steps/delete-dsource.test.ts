import { describe, expect, it } from 'vitest';
import { ErrorNames, SnapflowError } from '../../../../lib/core/errors';
import { deleteDSource } from '../../../../lib/core/steps/delete-dsource';
import { seedSnapshot } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('deleteDSource', () => {
  it('deletes the dSource', async () => {
    const engine = new FakeEngine();
    const { dsource } = await seedSnapshot(engine);

    await expect(deleteDSource({ dsourceId: dsource.id }, { engine })).resolves.toEqual({ dsourceId: dsource.id });
    expect(engine.dsources.has(dsource.id)).toBe(false);
  });

  it('counts a dSource that is already gone as deleted', async () => {
    const engine = new FakeEngine();

    await expect(deleteDSource({ dsourceId: 'ds-00000000000000ff' }, { engine })).resolves.toEqual({
      dsourceId: 'ds-00000000000000ff',
    });
  });

  it('rethrows any other error', async () => {
    const engine = new FakeEngine();
    const { dsource } = await seedSnapshot(engine);
    engine.failNext(
      'deleteDSource',
      new SnapflowError(ErrorNames.DependentsExist, 'in use', { action: 'Delete the VDBs first.' }),
    );

    await expect(deleteDSource({ dsourceId: dsource.id }, { engine })).rejects.toMatchObject({
      name: 'DependentsExistError',
    });
  });
});
