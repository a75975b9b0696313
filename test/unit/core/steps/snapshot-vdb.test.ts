import { describe, expect, it, vi } from 'vitest';
import { snapshotVdb } from '../../../../lib/core/steps/snapshot-vdb';
import { operations } from '../../../../lib/plugins/directory-tree/operations';
import { seedVdb } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('snapshotVdb', () => {
  it('runs preSnapshot, then snapshots the current timeflow with the trigger and postSnapshot metadata', async () => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);
    const order: string[] = [];
    const pre = vi.spyOn(operations.virtual, 'preSnapshot').mockImplementation(() => {
      order.push('preSnapshot');
    });

    const { snapshotId } = await snapshotVdb(
      { request: { vdbId: vdb.id, trigger: { kind: 'schedule', id: 'hourly' } } },
      { engine },
    );

    expect(engine.snapshots.get(snapshotId)).toMatchObject({
      datasetId: vdb.id,
      timeflowId: vdb.currentTimeflowId,
      metadata: {},
      provenance: { trigger: { kind: 'schedule', id: 'hourly' }, pluginVersion: '0.1.0' },
    });
    expect(order).toEqual(['preSnapshot']);
    expect(engine.methods).toEqual(['getVdb', 'snapshotDataset']);
    pre.mockRestore();
  });

  it('hands the engine the request token, so that a retry answers the snapshot already taken', async () => {
    const engine = new FakeEngine();
    const { vdb } = await seedVdb(engine);

    await snapshotVdb(
      { request: { vdbId: vdb.id, trigger: { kind: 'api' } }, requestToken: 'exec-1#SnapshotVdb' },
      { engine },
    );

    expect(engine.calls.at(-1)).toEqual({
      method: 'snapshotDataset',
      args: [vdb.id, expect.objectContaining({ requestToken: 'exec-1#SnapshotVdb' })],
    });
  });

  it('throws ValidationError for a missing trigger and NotFoundError naming vdbId for an unknown VDB', async () => {
    const engine = new FakeEngine();

    await expect(snapshotVdb({ request: { vdbId: 'vdb-00000000000000ff' } }, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'input.trigger',
    });
    await expect(
      snapshotVdb({ request: { vdbId: 'vdb-00000000000000ff', trigger: { kind: 'api' } } }, { engine }),
    ).rejects.toMatchObject({ name: 'NotFoundError', field: 'vdbId' });
  });
});
