import { afterAll, describe, expect, it } from 'vitest';
import { ErrorNames, SnapflowError } from '../../lib/core/errors';
import { seedVdb } from '../support/engine-fixtures';
import { FakeEngine } from '../support/fake-engine';
import { closeWorkflows, FakeHosts, type HostOutcome, outputOf, runWorkflow } from '../support/run-workflow';

afterAll(closeWorkflows);
const failedWith = (line: string): HostOutcome => ({
  Status: 'Failed',
  ResponseCode: 1,
  StandardErrorContent: `${line}\n`,
});
const busy = failedWith('snapflow-error: MountPointBusyError: MountPath /mnt/vdbs/dev is still in use: target is busy');

async function setUp(hosts = new FakeHosts()) {
  const engine = new FakeEngine();
  const seeded = await seedVdb(engine);
  // A newer snapshot of the parent dSource, which a refresh takes by default.
  const newer = await engine.snapshotDataset(seeded.dsource.id, {
    provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
    metadata: {},
  });
  engine.calls.length = 0;
  const previousTimeflowId = seeded.vdb.currentTimeflowId;
  const ports = { engine };
  return { engine, hosts, ports, ...seeded, newer, previousTimeflowId };
}

type Seeded = Awaited<ReturnType<typeof setUp>>;

/** The VDB is as it was before the workflow: on its previous timeflow, RUNNING, with nothing left over. */
function expectRestored({ engine, vdb, previousTimeflowId }: Seeded) {
  expect(engine.vdbs.get(vdb.id)).toMatchObject({
    status: 'RUNNING',
    currentTimeflowId: previousTimeflowId,
    sourceConfig: vdb.sourceConfig,
  });
  expect([...engine.timeflows.values()].filter((timeflow) => timeflow.datasetId === vdb.id)).toHaveLength(1);
}

/** The Source of each mount the workflow sent, in order. */
const mountedSources = (hosts: FakeHosts) =>
  hosts.sent.filter((command) => command.document === 'mount').map((command) => command.parameters.Source?.[0]);

describe('refresh workflow', () => {
  it("unmounts, clones the parent's latest snapshot into a new timeflow, mounts and configures it", async () => {
    const seeded = await setUp();
    const { engine, hosts, ports, vdb, newer, previousTimeflowId } = seeded;

    const result = await runWorkflow('refresh', { vdbId: vdb.id }, ports, hosts);

    expect(result).toEqual({
      status: 'SUCCEEDED',
      output: { vdbId: vdb.id, timeflowId: expect.any(String), snapshotId: newer.id },
    });
    const { timeflowId } = outputOf<{ timeflowId: string }>(result);
    expect(hosts.documents).toEqual(['unmount', 'mount']);
    expect(mountedSources(hosts)).toEqual([engine.timeflows.get(timeflowId)?.path]);
    expect(engine.timeflows.get(timeflowId)).toMatchObject({ kind: 'refresh', parentSnapshotId: newer.id });
    expect(engine.timeflows.has(previousTimeflowId)).toBe(true);
    expect(engine.vdbs.get(vdb.id)).toMatchObject({
      status: 'RUNNING',
      currentTimeflowId: timeflowId,
      parentSnapshotId: newer.id,
      sourceConfig: { name: 'VDB mounted at /mnt/vdbs/dev', path: '/mnt/vdbs/dev' },
    });
    expect(engine.methods.filter((method) => ['createTimeflow', 'updateVdb'].includes(method))).toEqual([
      'createTimeflow',
      'updateVdb',
    ]);
  });

  it('refreshes from the snapshot named, when it is one of the parent', async () => {
    const { hosts, ports, vdb, snapshot } = await setUp();

    const result = await runWorkflow('refresh', { vdbId: vdb.id, snapshotId: snapshot.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { snapshotId: snapshot.id } });
  });

  it('refuses a snapshot of another dataset, naming snapshotId, before touching the host', async () => {
    const { engine, hosts, ports, vdb, vdbSnapshot } = await setUp();

    const result = await runWorkflow('refresh', { vdbId: vdb.id, snapshotId: vdbSnapshot.id }, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'ValidationError',
      cause: expect.stringContaining(`snapshotId ${vdbSnapshot.id} is a snapshot of ${vdb.id}`),
    });
    expect(hosts.sent).toEqual([]);
    expect(engine.methods).not.toContain('createTimeflow');
  });

  it('refuses a stopped VDB with ConflictError, before touching the host', async () => {
    const { engine, hosts, ports, vdb } = await setUp();
    await engine.updateVdb(vdb.id, { status: 'STOPPED' });

    const result = await runWorkflow('refresh', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'ConflictError',
      message: `refresh refused: VDB ${vdb.id} is STOPPED`,
    });
    expect(hosts.sent).toEqual([]);
  });

  it('mounts the previous timeflow again when the new one fails to mount, deleting the new one', async () => {
    const seeded = await setUp(new FakeHosts({ mount: [busy] }));
    const { engine, hosts, ports, vdb, previousTimeflowId } = seeded;

    const result = await runWorkflow('refresh', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'MountPointBusyError' });
    // The new timeflow is unmounted, only it (its export as Source), before it is deleted.
    expect(hosts.documents).toEqual(['unmount', 'mount', 'unmount', 'mount']);
    expect(hosts.sent[2]?.parameters.Source).toEqual(hosts.sent[1]?.parameters.Source);
    expect(mountedSources(hosts)[1]).toBe(engine.timeflows.get(previousTimeflowId)?.path);
    expectRestored(seeded);
  });

  it('unmounts the new timeflow when configuring fails, then restores the previous one', async () => {
    const seeded = await setUp();
    const { engine, hosts, ports, vdb, previousTimeflowId } = seeded;
    engine.failNext('updateVdb', new SnapflowError(ErrorNames.Storage, 'metadata write failed', { action: 'Retry.' }));

    const result = await runWorkflow('refresh', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError', message: 'metadata write failed' });
    expect(hosts.documents).toEqual(['unmount', 'mount', 'unmount', 'mount']);
    expect(mountedSources(hosts)[1]).toBe(engine.timeflows.get(previousTimeflowId)?.path);
    expect(engine.methods.filter((method) => /Timeflow$/.test(method))).toEqual([
      'createTimeflow',
      'switchTimeflow',
      'deleteTimeflow',
    ]);
    expectRestored(seeded);
  });

  it('deletes no timeflow when the new one cannot be unmounted, reporting both errors', async () => {
    const seeded = await setUp(new FakeHosts({ unmount: [{}, busy] }));
    const { engine, hosts, ports, vdb } = seeded;
    engine.failNext('updateVdb', new SnapflowError(ErrorNames.Storage, 'metadata write failed', { action: 'Retry.' }));

    const result = await runWorkflow('refresh', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError', message: 'metadata write failed' });
    expect(result.status === 'FAILED' && result.cause).toContain(
      '(undo failed too, clean up by hand: MountPointBusyError: virtualSource.mountLocation /mnt/vdbs/dev is still in use',
    );
    expect(hosts.documents).toEqual(['unmount', 'mount', 'unmount']);
    expect(engine.methods).not.toContain('switchTimeflow');
    expect(engine.methods).not.toContain('deleteTimeflow');
  });

  it('reconfigures the still mounted VDB when the unmount fails, creating no timeflow', async () => {
    const seeded = await setUp(new FakeHosts({ unmount: [busy] }));
    const { engine, hosts, ports, vdb } = seeded;

    const result = await runWorkflow('refresh', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'MountPointBusyError',
      message: expect.stringContaining('virtualSource.mountLocation /mnt/vdbs/dev is still in use'),
    });
    expect(hosts.documents).toEqual(['unmount', 'mount']);
    expect(engine.methods).not.toContain('createTimeflow');
    expectRestored(seeded);
  });

  it('keeps the original error and says what is left when the restore fails too', async () => {
    const { hosts, ports, vdb } = await setUp(new FakeHosts({ mount: [busy, busy] }));
    // The new timeflow failed to mount; it is unmounted and deleted, but the previous one cannot be mounted.

    const result = await runWorkflow('refresh', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'MountPointBusyError',
      cause: expect.stringContaining('(undo failed too, clean up by hand: MountPointBusyError'),
    });
  });
});

describe('rollback workflow', () => {
  it("clones the VDB's own snapshot into a new timeflow and reconfigures it, keeping the one it leaves", async () => {
    const { engine, hosts, ports, vdb, vdbSnapshot, previousTimeflowId } = await setUp();

    const result = await runWorkflow('rollback', { vdbId: vdb.id, snapshotId: vdbSnapshot.id }, ports, hosts);

    expect(result).toEqual({
      status: 'SUCCEEDED',
      output: { vdbId: vdb.id, timeflowId: expect.any(String), snapshotId: vdbSnapshot.id },
    });
    const { timeflowId } = outputOf<{ timeflowId: string }>(result);
    expect(hosts.documents).toEqual(['unmount', 'mount']);
    expect(engine.timeflows.get(timeflowId)).toMatchObject({ kind: 'rollback', parentSnapshotId: vdbSnapshot.id });
    expect(engine.timeflows.has(previousTimeflowId)).toBe(true);
    expect(engine.vdbs.get(vdb.id)).toMatchObject({
      status: 'RUNNING',
      currentTimeflowId: timeflowId,
      sourceConfig: vdb.sourceConfig,
    });
  });

  it("refuses a snapshot that is not the VDB's own, before touching the host", async () => {
    const { hosts, ports, vdb, newer } = await setUp();

    const result = await runWorkflow('rollback', { vdbId: vdb.id, snapshotId: newer.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
    expect(hosts.sent).toEqual([]);
  });

  it('mounts the previous timeflow again when the engine cannot create the new one', async () => {
    const seeded = await setUp();
    const { engine, hosts, ports, vdb, vdbSnapshot } = seeded;
    engine.failNext('createTimeflow', new SnapflowError(ErrorNames.Storage, 'clone failed', { action: 'Check.' }));

    const result = await runWorkflow('rollback', { vdbId: vdb.id, snapshotId: vdbSnapshot.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError', message: 'clone failed' });
    expect(hosts.documents).toEqual(['unmount', 'mount']);
    expect(engine.methods).not.toContain('switchTimeflow');
    expectRestored(seeded);
  });
});
