import { describe, expect, it } from 'vitest';
import { planProvision } from '../../../../lib/core/steps/plan-provision';
import { seedSnapshot } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

async function setUp() {
  const engine = new FakeEngine();
  const { snapshot, targetHost, dsource } = await seedSnapshot(engine);
  const request = {
    name: 'dev copy',
    snapshotId: snapshot.id,
    environmentId: targetHost.id,
    virtualSource: { mountLocation: '/mnt/vdbs/dev/' },
  };
  return { engine, request, dsource };
}

describe('planProvision', () => {
  it('plans a check of the normalized mount point on the target host and a new VDB id, creating nothing', async () => {
    const { engine, request } = await setUp();

    const plan = await planProvision(request, { engine });

    expect(plan).toEqual({
      target: { hostId: 'i-0target', mountPath: '/mnt/vdbs/dev' },
      check: { document: 'check-mount-point', hostId: 'i-0target', parameters: { MountPath: ['/mnt/vdbs/dev'] } },
      vdb: {
        id: expect.stringMatching(/^vdb-[0-9a-f]{16}$/),
        name: 'dev copy',
        snapshotId: request.snapshotId,
        environmentId: request.environmentId,
        parameters: { mountLocation: '/mnt/vdbs/dev' },
      },
    });
    expect(engine.methods).toEqual(['getSnapshot', 'getEnvironment']);
  });

  it('throws ValidationError naming an unknown field', async () => {
    const { engine, request } = await setUp();

    await expect(planProvision({ ...request, size: 10 }, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'input.size',
    });
  });

  it('throws ValidationError for a mount location that is the root directory', async () => {
    const { engine, request } = await setUp();

    await expect(
      planProvision({ ...request, virtualSource: { mountLocation: '/' } }, { engine }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'virtualSource.mountLocation',
      message: 'virtualSource.mountLocation is the root directory: /',
    });
  });

  it('throws NotFoundError naming snapshotId for an unknown snapshot', async () => {
    const { engine, request } = await setUp();

    await expect(planProvision({ ...request, snapshotId: 'snap-00000000000000ff' }, { engine })).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'snapshotId',
      action: expect.stringContaining('snapshotId'),
    });
  });

  it('throws NotFoundError naming environmentId for an unknown target host', async () => {
    const { engine, request } = await setUp();

    await expect(
      planProvision({ ...request, environmentId: 'env-00000000000000ff' }, { engine }),
    ).rejects.toMatchObject({ name: 'NotFoundError', field: 'environmentId' });
  });

  it("resolves sourceDataId to that dataset's latest snapshot, and keeps a chosen vdbId", async () => {
    const { engine, request, dsource } = await setUp();
    const latest = await engine.snapshotDataset(dsource.id, {
      provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
      metadata: {},
    });
    const { snapshotId, ...rest } = request;

    const plan = await planProvision({ ...rest, sourceDataId: dsource.id, vdbId: 'vdb-00000000000000aa' }, { engine });

    expect(plan.vdb).toMatchObject({ id: 'vdb-00000000000000aa', snapshotId: latest.id });
  });

  it('throws ValidationError naming sourceDataId when given both snapshotId and sourceDataId', async () => {
    const { engine, request, dsource } = await setUp();

    await expect(planProvision({ ...request, sourceDataId: dsource.id }, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'sourceDataId',
      message: 'input has both snapshotId and sourceDataId',
    });
  });

  it('throws ValidationError naming snapshotId when given neither', async () => {
    const { engine, request } = await setUp();
    const { snapshotId, ...rest } = request;

    await expect(planProvision(rest, { engine })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'snapshotId',
      action: expect.stringContaining('sourceDataId'),
    });
  });

  it('throws NotFoundError naming sourceDataId for an unknown dataset, ConflictError for one without snapshots', async () => {
    const { engine, request } = await setUp();
    const { snapshotId, ...rest } = request;
    const empty = await engine.createDSource({
      name: 'empty',
      sourceConfigId: [...engine.sourceConfigs.keys()][0] as string,
      stagingEnvironmentId: request.environmentId,
      parameters: { sourceAddress: 'localhost', username: 'root', mountLocation: '/mnt/staging/empty' },
    });

    await expect(planProvision({ ...rest, sourceDataId: 'ds-00000000000000ff' }, { engine })).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'sourceDataId',
    });
    await expect(planProvision({ ...rest, sourceDataId: empty.id }, { engine })).rejects.toMatchObject({
      name: 'ConflictError',
      field: 'sourceDataId',
      message: `sourceDataId ${empty.id} has no snapshot yet`,
    });
  });

  it('throws ConflictError naming vdbId when a VDB has that id already', async () => {
    const { engine, request } = await setUp();
    const taken = await engine.createVdb({
      name: 'other',
      snapshotId: request.snapshotId,
      environmentId: request.environmentId,
      parameters: { mountLocation: '/mnt/vdbs/other' },
    });

    await expect(planProvision({ ...request, vdbId: taken.id }, { engine })).rejects.toMatchObject({
      name: 'ConflictError',
      field: 'vdbId',
    });
  });

  it("plans the VDB with the request's policy, checked before anything is asked of the engine", async () => {
    const { engine, request } = await setUp();
    const policy = { schedule: { cron: '0 * * * *', timeZone: 'UTC' }, retention: { hourly: 12 } };

    const plan = await planProvision({ ...request, policy }, { engine });

    expect(plan.vdb.policy).toEqual(policy);
    engine.calls.length = 0;
    await expect(
      planProvision({ ...request, policy: { schedule: { cron: '0 * * * *', timeZone: 'Mars/Olympus' } } }, { engine }),
    ).rejects.toMatchObject({ name: 'ValidationError', field: 'policy.schedule.timeZone' });
    expect(engine.calls).toEqual([]);
  });
});
