import { describe, expect, it } from 'vitest';
import { planSync } from '../../../../lib/core/steps/plan-sync';
import { seedSnapshot } from '../../../support/engine-fixtures';
import { FakeEngine, fixedClock } from '../../../support/fake-engine';

const clock = fixedClock('2026-03-01T10:00:00.000Z');

async function setUp() {
  const engine = new FakeEngine();
  const { dsource } = await seedSnapshot(engine);
  const request = { dsourceId: dsource.id, snapshotParameters: { resync: false }, trigger: { kind: 'schedule' } };
  return { engine, dsource, request };
}

describe('planSync', () => {
  it('refuses a local copy whose source config is on another host, before exporting anything', async () => {
    const { engine, dsource, request } = await setUp();
    engine.dsources.set(dsource.id, { ...dsource, parameters: { ...dsource.parameters, sourceAddress: '127.0.0.1' } });
    engine.calls.length = 0;

    await expect(planSync(request, { engine, clock })).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'linkedSource.sourceAddress',
    });
    expect(engine.methods).not.toContain('exportDataset');
  });

  it('exports the dSource writable and plans mount, copy and unmount on the staging host', async () => {
    const { engine, dsource, request } = await setUp();

    const plan = await planSync(request, { engine, clock });

    expect(plan).toEqual({
      mount: {
        document: 'mount',
        hostId: 'i-0staging',
        parameters: {
          ExportKind: ['bind'],
          Source: [`/var/lib/snapflow/timeflows/${dsource.currentTimeflowId}`],
          MountPath: ['/mnt/staging/data'],
          Access: ['rw'],
        },
      },
      copy: {
        document: 'copy',
        hostId: 'i-0staging',
        parameters: {
          Source: ['snap@src.example.com:/srv/data'],
          Destination: ['/mnt/staging/data'],
          Excludes: [''],
          Resync: ['false'],
        },
      },
      unmount: { document: 'unmount', hostId: 'i-0staging', parameters: { MountPath: ['/mnt/staging/data'] } },
      startedAt: '2026-03-01T10:00:00.000Z',
    });
    expect(engine.calls).toContainEqual({ method: 'exportDataset', args: [dsource.id, { readOnly: false }] });
  });

  it('asks for a checksum comparison on resync', async () => {
    const { engine, request } = await setUp();

    const plan = await planSync({ ...request, snapshotParameters: { resync: true } }, { engine, clock });

    expect(plan.copy.parameters.Resync).toEqual(['true']);
  });

  it('throws ValidationError naming a field of the wrong type', async () => {
    const { engine, request } = await setUp();

    await expect(
      planSync({ ...request, snapshotParameters: { resync: 'yes' } }, { engine, clock }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'input.snapshotParameters.resync',
    });
    expect(engine.calls).toEqual([]);
  });

  it('throws NotFoundError naming dsourceId for an unknown dSource', async () => {
    const { engine, request } = await setUp();

    await expect(planSync({ ...request, dsourceId: 'ds-00000000000000ff' }, { engine, clock })).rejects.toMatchObject({
      name: 'NotFoundError',
      field: 'dsourceId',
    });
    expect(engine.methods).not.toContain('exportDataset');
  });
});
