import { describe, expect, it } from 'vitest';
import { configureVdb } from '../../../../lib/core/steps/configure-vdb';
import { seedSnapshot } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

describe('configureVdb', () => {
  it('records the source config, marks the VDB running and takes its first snapshot', async () => {
    const engine = new FakeEngine();
    const { snapshot, targetHost } = await seedSnapshot(engine);
    const vdb = await engine.createVdb({
      name: 'dev copy',
      snapshotId: snapshot.id,
      environmentId: targetHost.id,
      parameters: { mountLocation: '/mnt/vdbs/dev' },
    });

    const result = await configureVdb({ vdbId: vdb.id, executionId: 'arn:exec:1' }, { engine });

    const sourceConfig = { name: 'VDB mounted at /mnt/vdbs/dev', path: '/mnt/vdbs/dev' };
    expect(result).toEqual({ vdbId: vdb.id, snapshotId: expect.any(String), sourceConfig });
    expect(engine.vdbs.get(vdb.id)).toMatchObject({ status: 'RUNNING', sourceConfig });
    expect(engine.snapshots.get(result.snapshotId)).toMatchObject({
      datasetId: vdb.id,
      metadata: {},
      provenance: { trigger: { kind: 'workflow', id: 'arn:exec:1' }, pluginVersion: '0.1.0' },
    });
  });

  it('throws NotFoundError for an unknown VDB', async () => {
    const engine = new FakeEngine();

    await expect(configureVdb({ vdbId: 'vdb-00000000000000ff' }, { engine })).rejects.toMatchObject({
      name: 'NotFoundError',
    });
  });
});
