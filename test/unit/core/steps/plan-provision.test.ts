import { describe, expect, it } from 'vitest';
import { planProvision } from '../../../../lib/core/steps/plan-provision';
import { seedSnapshot } from '../../../support/engine-fixtures';
import { FakeEngine } from '../../../support/fake-engine';

async function setUp() {
  const engine = new FakeEngine();
  const { snapshot, targetHost } = await seedSnapshot(engine);
  const request = {
    name: 'dev copy',
    snapshotId: snapshot.id,
    environmentId: targetHost.id,
    virtualSource: { mountLocation: '/mnt/vdbs/dev/' },
  };
  return { engine, request };
}

describe('planProvision', () => {
  it('plans a check of the normalized mount point on the target host, creating nothing', async () => {
    const { engine, request } = await setUp();

    const plan = await planProvision(request, { engine });

    expect(plan).toEqual({
      target: { hostId: 'i-0target', mountPath: '/mnt/vdbs/dev' },
      check: { document: 'check-mount-point', hostId: 'i-0target', parameters: { MountPath: ['/mnt/vdbs/dev'] } },
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
});
