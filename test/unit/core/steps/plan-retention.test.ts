import { describe, expect, it } from 'vitest';
import { parseSnapshotPolicy } from '../../../../lib/core/snapshot-policy';
import { planRetention } from '../../../../lib/core/steps/plan-retention';
import { seedSnapshot } from '../../../support/engine-fixtures';
import { FakeEngine, fixedClock } from '../../../support/fake-engine';

const NOW = '2026-03-10T00:00:00.000Z';

/**
 * A dSource keeping its 2 newest snapshots, with six a day apart: the oldest retained forever, the
 * second pinned by a VDB, the third expired, the fourth expiring after NOW.
 */
async function setUp() {
  const engine = new FakeEngine();
  const { dsource, snapshot, targetHost } = await seedSnapshot(engine);
  engine.dsources.set(dsource.id, { ...dsource, policy: parseSnapshotPolicy({ retention: { keepAtLeast: 2 } }) });
  const ids = [snapshot.id];
  for (let index = 1; index < 6; index += 1)
    ids.push(
      (
        await engine.snapshotDataset(dsource.id, {
          provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
          metadata: {},
        })
      ).id,
    );
  const extra = [
    { retainForever: true },
    {},
    { expiresAt: '2026-03-09T00:00:00.000Z' },
    { expiresAt: '2026-03-20T00:00:00.000Z' },
    {},
    {},
  ];
  ids.forEach((id, index) => {
    const record = engine.snapshots.get(id);
    if (record !== undefined)
      engine.snapshots.set(id, { ...record, createdAt: `2026-03-0${index + 1}T12:00:00.000Z`, ...extra[index] });
  });
  await engine.createVdb({
    name: 'dev',
    snapshotId: ids[1] as string,
    environmentId: targetHost.id,
    parameters: { mountLocation: '/mnt/vdbs/dev' },
  });
  engine.calls.length = 0;
  const request = (dryRun: boolean) => ({ datasetId: dsource.id, dryRun, trigger: { kind: 'api' } });
  return { engine, ports: { engine, clock: fixedClock(NOW) }, ids, request };
}

describe('planRetention', () => {
  it("decides with the dataset's policy, each snapshot's clones, expiry and mark, at the clock's time", async () => {
    const { ports, ids, request } = await setUp();

    const plan = await planRetention(request(false), ports);

    expect(plan.decision.now).toBe(NOW);
    expect(Object.fromEntries(plan.decision.keep.map((kept) => [kept.id, kept.rules]))).toEqual({
      [ids[5] as string]: ['newest', 'keepAtLeast'],
      [ids[4] as string]: ['keepAtLeast'],
      [ids[3] as string]: ['expiresLater'],
      [ids[1] as string]: ['pinned'],
      [ids[0] as string]: ['retainForever'],
    });
    expect(plan.decision.delete).toEqual([expect.objectContaining({ id: ids[2], rule: 'expired' })]);
    expect(plan.deleteIds).toEqual([ids[2]]);
  });

  it('decides the same in a dry run and gives it nothing to delete, asking the engine nothing that changes', async () => {
    const { engine, ports, request } = await setUp();

    const dryRun = await planRetention(request(true), ports);
    const run = await planRetention(request(false), ports);

    expect(dryRun).toEqual({ ...run, dryRun: true, deleteIds: [] });
    expect(new Set(engine.methods)).toEqual(new Set(['getDSource', 'listSnapshots', 'listDependents']));
  });

  it("applies a VDB's own policy", async () => {
    const { engine, ports } = await setUp();
    const [vdb] = engine.vdbs.values();
    if (vdb === undefined) throw new Error('no VDB');
    engine.vdbs.set(vdb.id, { ...vdb, policy: parseSnapshotPolicy({ retention: { keepAtLeast: 1 } }) });
    const first = await engine.snapshotDataset(vdb.id, {
      provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
      metadata: {},
    });
    const second = await engine.snapshotDataset(vdb.id, {
      provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
      metadata: {},
    });
    engine.snapshots.set(second.id, { ...second, createdAt: '2026-03-08T00:00:00.000Z' });

    const plan = await planRetention({ datasetId: vdb.id, dryRun: false, trigger: { kind: 'api' } }, ports);

    expect(plan.datasetId).toBe(vdb.id);
    expect(plan.deleteIds).toEqual([first.id]);
  });

  it('names datasetId when no dSource or VDB has it, and refuses a bad request before asking', async () => {
    const { engine, ports } = await setUp();

    await expect(
      planRetention({ datasetId: 'vdb-00000000000000ff', dryRun: true, trigger: { kind: 'api' } }, ports),
    ).rejects.toMatchObject({ name: 'NotFoundError', field: 'datasetId' });
    engine.calls.length = 0;
    await expect(
      planRetention({ datasetId: 'vdb-00000000000000ff', trigger: { kind: 'api' } }, ports),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'input.dryRun',
    });
    expect(engine.calls).toEqual([]);
  });
});
