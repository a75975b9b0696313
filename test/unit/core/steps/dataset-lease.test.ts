import { describe, expect, it } from 'vitest';
import { acquireLease, releaseLease } from '../../../../lib/core/steps/dataset-lease';
import { seedSnapshot, seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

const holder = 'arn:aws:states:us-east-1:123456789012:execution:Sync:one';

describe('acquireLease', () => {
  it("takes the lease of the dataset the workflow's input names, for the run and its time", async () => {
    const engine = new FakeEngine();
    const { dsource } = await seedSnapshot(engine);
    const request = { dsourceId: dsource.id, snapshotParameters: { resync: false }, trigger: { kind: 'api' } };

    const lease = await acquireLease({ workflow: 'sync', request, holder, ttlSeconds: 600 }, { engine });

    expect(lease).toEqual({ datasetId: dsource.id, expiresAt: expect.any(String) });
    expect(engine.calls).toEqual([{ method: 'acquireLease', args: [dsource.id, { holder, ttlSeconds: 600 }] }]);
  });

  it.each([
    ['refresh', (ids: { vdbId: string; datasetId: string }) => ({ vdbId: ids.vdbId })],
    ['delete-vdb', (ids: { vdbId: string; datasetId: string }) => ({ vdbId: ids.vdbId })],
    [
      'retention',
      (ids: { vdbId: string; datasetId: string }) => ({
        datasetId: ids.datasetId,
        dryRun: true,
        trigger: { kind: 'api' },
      }),
    ],
  ] as const)('finds the dataset of %s in its own field', async (workflow, request) => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);

    const lease = await acquireLease(
      { workflow, request: request({ vdbId: vdb.id, datasetId: vdb.id }), holder, ttlSeconds: 60 },
      { engine },
    );

    expect(lease.datasetId).toBe(vdb.id);
  });

  it('validates the input with the workflow schema before it asks the engine', async () => {
    const engine = new FakeEngine();

    await expect(
      acquireLease(
        { workflow: 'stop-vdb', request: { vdbId: 'vdb-0000000000000001', force: true }, holder, ttlSeconds: 60 },
        { engine },
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', field: 'input.force' });
    expect(engine.calls).toEqual([]);
  });

  it('names the field of a dataset that does not exist', async () => {
    const engine = new FakeEngine();

    await expect(
      acquireLease(
        { workflow: 'delete-dsource', request: { dsourceId: 'ds-00000000000000ff' }, holder, ttlSeconds: 60 },
        { engine },
      ),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'dsourceId',
      message: 'dsourceId ds-00000000000000ff does not exist',
    });
  });

  it('fails with DatasetBusyError while another run holds the lease, and renews its own', async () => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);
    const input = {
      workflow: 'snapshot-vdb',
      request: { vdbId: vdb.id, trigger: { kind: 'api' } },
      ttlSeconds: 60,
    } as const;
    await acquireLease({ ...input, holder }, { engine });

    await expect(acquireLease({ ...input, holder: `${holder}-other` }, { engine })).rejects.toMatchObject({
      name: 'DatasetBusyError',
    });
    await expect(acquireLease({ ...input, holder }, { engine })).resolves.toMatchObject({ datasetId: vdb.id });
  });
});

describe('releaseLease', () => {
  it("gives back the run's own lease, and leaves another run's alone", async () => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);
    await engine.acquireLease(vdb.id, { holder, ttlSeconds: 60 });

    await releaseLease({ datasetId: vdb.id, holder: `${holder}-other` }, { engine });
    expect(engine.leases.has(vdb.id)).toBe(true);
    await expect(releaseLease({ datasetId: vdb.id, holder }, { engine })).resolves.toEqual({ datasetId: vdb.id });
    expect(engine.leases.has(vdb.id)).toBe(false);
  });
});
