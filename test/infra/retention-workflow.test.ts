import { afterAll, describe, expect, it } from 'vitest';
import { ErrorNames, SnapflowError } from '../../lib/core/errors';
import { parseSnapshotPolicy } from '../../lib/core/snapshot-policy';
import type { RetentionReport } from '../../lib/core/steps/report-retention';
import { seedSnapshot } from '../support/engine-fixtures';
import { FakeEngine } from '../support/fake-engine';
import { closeWorkflows, FakeHosts, outputOf, runWorkflow } from '../support/run-workflow';
import { workflowDefinition } from '../support/snapflow-template';

afterAll(closeWorkflows);

/**
 * A dSource with five snapshots a day apart (the oldest first, as seeded) under a policy that keeps
 * the two newest, and a VDB provisioned from the second oldest: retention deletes the oldest and the
 * middle one.
 */
async function setUp() {
  const engine = new FakeEngine();
  const { dsource, snapshot, targetHost } = await seedSnapshot(engine);
  engine.dsources.set(dsource.id, { ...dsource, policy: parseSnapshotPolicy({ retention: { keepAtLeast: 2 } }) });
  const snapshots = [snapshot];
  for (let index = 1; index < 5; index += 1)
    snapshots.push(
      await engine.snapshotDataset(dsource.id, {
        provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
        metadata: {},
      }),
    );
  snapshots.forEach((record, index) => {
    engine.snapshots.set(record.id, { ...record, createdAt: `2026-03-0${index + 1}T12:00:00.000Z` });
  });
  const [oldest, pinned, middle, second, newest] = snapshots.map((record) => record.id) as [
    string,
    string,
    string,
    string,
    string,
  ];
  await engine.createVdb({
    name: 'dev',
    snapshotId: pinned,
    environmentId: targetHost.id,
    parameters: { mountLocation: '/mnt/vdbs/dev' },
  });
  engine.calls.length = 0;
  const input = (dryRun: boolean) => ({ datasetId: dsource.id, dryRun, trigger: { kind: 'schedule', id: 'daily' } });
  return { engine, dsource, input, ids: { oldest, pinned, middle, second, newest } };
}

const deleted = (engine: FakeEngine) =>
  engine.calls.filter((call) => call.method === 'deleteSnapshot').map((call) => call.args[0]);

describe('retention workflow', () => {
  it('reports in a dry run exactly what a run then deletes, never the newest or a pinned snapshot', async () => {
    const { engine, dsource, input, ids } = await setUp();

    const dryRun = outputOf<RetentionReport>(await runWorkflow('retention', input(true), { engine }, new FakeHosts()));

    expect(deleted(engine)).toEqual([]);
    expect(engine.snapshots.size).toBe(5);
    expect(dryRun).toMatchObject({
      datasetId: dsource.id,
      dryRun: true,
      kept: [
        { id: ids.newest, reasons: ['newest snapshot', 'one of the 2 newest (keep at least 2)'] },
        { id: ids.second, reasons: ['one of the 2 newest (keep at least 2)'] },
        { id: ids.pinned, reasons: ['pinned by 1 clone'] },
      ],
      deleted: [
        { id: ids.middle, reason: 'no rule keeps it' },
        { id: ids.oldest, reason: 'no rule keeps it' },
      ],
      skipped: [],
    });
    expect(dryRun.report).toContain('Dry run: nothing was deleted.');

    const run = outputOf<RetentionReport>(await runWorkflow('retention', input(false), { engine }, new FakeHosts()));

    expect(run).toEqual({ ...dryRun, dryRun: false, report: expect.not.stringContaining('Dry run') });
    expect(deleted(engine)).toEqual([ids.middle, ids.oldest]);
    expect([...engine.snapshots.keys()].sort()).toEqual([ids.newest, ids.second, ids.pinned].sort());
    expect(engine.leases.size).toBe(0);
  });

  it('holds the lease while it decides and deletes, as the execution, and gives it back', async () => {
    const { engine, dsource, input } = await setUp();

    await runWorkflow('retention', input(false), { engine }, new FakeHosts());

    const order = engine.methods.filter((method) => /Lease$|^listSnapshots$|^deleteSnapshot$/.test(method));
    expect(order).toEqual(['acquireLease', 'listSnapshots', 'deleteSnapshot', 'deleteSnapshot', 'releaseLease']);
    expect(engine.calls[0]?.args[0]).toBe(dsource.id);
  });

  it('reports a snapshot a clone was made from since the decision as skipped, and deletes the rest', async () => {
    const { engine, input, ids } = await setUp();
    engine.failNext(
      'deleteSnapshot',
      new SnapflowError(
        ErrorNames.DependentsExist,
        `snapshot ${ids.middle} cannot be deleted: VDB vdb-x was provisioned from it`,
        {
          action: 'Delete the dependents first.',
        },
      ),
    );

    const run = outputOf<RetentionReport>(await runWorkflow('retention', input(false), { engine }, new FakeHosts()));

    expect(run.skipped).toEqual([
      {
        id: ids.middle,
        error: `DependentsExistError: snapshot ${ids.middle} cannot be deleted: VDB vdb-x was provisioned from it`,
      },
    ]);
    expect(run.deleted).toEqual([{ id: ids.oldest, reason: 'no rule keeps it' }]);
    expect(engine.snapshots.has(ids.middle)).toBe(true);
    expect(engine.snapshots.has(ids.oldest)).toBe(false);
    expect(run.report).toContain(`Not deleted after all:\n${ids.middle}  DependentsExistError: snapshot ${ids.middle}`);
  });

  it('fails with any other error of a delete, releasing the lease', async () => {
    const { engine, input } = await setUp();
    engine.failNext('deleteSnapshot', new SnapflowError(ErrorNames.Storage, 'disk gone', { action: 'Retry.' }));

    const result = await runWorkflow('retention', input(false), { engine }, new FakeHosts());

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError', message: 'disk gone' });
    expect(engine.methods.at(-1)).toBe('releaseLease');
    expect(engine.leases.size).toBe(0);
  });

  it('applies a VDB’s own policy to its snapshots', async () => {
    const { engine, ids } = await setUp();
    const [vdb] = engine.vdbs.values();
    if (vdb === undefined) throw new Error('no VDB');
    engine.vdbs.set(vdb.id, { ...vdb, policy: parseSnapshotPolicy({ retention: { keepAtLeast: 1 } }) });
    const vdbSnapshots = [];
    for (let index = 0; index < 3; index += 1)
      vdbSnapshots.push(
        await engine.snapshotDataset(vdb.id, {
          provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
          metadata: {},
        }),
      );
    vdbSnapshots.forEach((record, index) => {
      engine.snapshots.set(record.id, { ...record, createdAt: `2026-04-0${index + 1}T12:00:00.000Z` });
    });

    const run = outputOf<RetentionReport>(
      await runWorkflow(
        'retention',
        { datasetId: vdb.id, dryRun: false, trigger: { kind: 'api' } },
        { engine },
        new FakeHosts(),
      ),
    );

    expect(run.kept.map((kept) => kept.id)).toEqual([vdbSnapshots[2]?.id]);
    expect(run.deleted.map((gone) => gone.id)).toEqual([vdbSnapshots[1]?.id, vdbSnapshots[0]?.id]);
    expect(engine.snapshots.has(ids.oldest)).toBe(true);
  });

  it('names datasetId when it is neither a dSource nor a VDB', async () => {
    const { engine } = await setUp();

    const result = await runWorkflow(
      'retention',
      { datasetId: 'ds-00000000000000ff', dryRun: true, trigger: { kind: 'api' } },
      { engine },
      new FakeHosts(),
    );

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'NotFoundError',
      message: 'datasetId ds-00000000000000ff does not exist',
    });
  });

  it('deletes one snapshot at a time, in a Map that reports rather than fails on DependentsExistError only', () => {
    const map = workflowDefinition('retention').States.DeleteSnapshots;

    expect(map).toMatchObject({
      Type: 'Map',
      MaxConcurrency: 1,
      ItemsPath: '$.plan.deleteIds',
      ResultPath: '$.deletions',
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'ReleaseLeaseAfterFailure' }],
    });
    const processor = map?.Type === 'Map' ? map.ItemProcessor : undefined;
    expect(processor?.States.DeleteSnapshot).toMatchObject({
      Catch: [{ ErrorEquals: ['DependentsExistError'], ResultPath: '$.error', Next: 'NotDeleted' }],
    });
  });
});
