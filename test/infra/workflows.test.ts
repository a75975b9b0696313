import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorNames, SnapflowError } from '../../lib/core/errors';
import { type WorkflowName, workflowInputSchemas } from '../../lib/core/workflow-inputs';
import { linkRequest, seedSnapshot, seedSource } from '../support/engine-fixtures';
import { FakeEngine } from '../support/fake-engine';
import { closeWorkflows, FakeHosts, type HostOutcome, outputOf, runWorkflow } from '../support/run-workflow';
import { workflowDefinition } from '../support/snapflow-template';

afterAll(closeWorkflows);
afterEach(() => {
  vi.restoreAllMocks();
});

const RSYNC_STATS = 'Number of regular files transferred: 1,234\nTotal transferred file size: 56,789 bytes\n';
const copied = { StandardOutputContent: RSYNC_STATS };
const failedWith = (line: string): HostOutcome => ({
  Status: 'Failed',
  ResponseCode: 1,
  StandardErrorContent: `${line}\n`,
});
const stagingBusy = failedWith(
  'snapflow-error: MountPointBusyError: MountPath /mnt/staging/data is still in use: busy',
);
const storageError = (message: string) => new SnapflowError(ErrorNames.Storage, message, { action: 'Retry.' });
/** The engine calls of one method, with their arguments. */
const callsOf = (engine: FakeEngine, method: string) =>
  engine.calls.filter((call) => call.method === method).map((call) => call.args);

describe('sync workflow', () => {
  async function setUp(hosts = new FakeHosts({ copy: copied })) {
    const engine = new FakeEngine();
    const { dsource } = await seedSnapshot(engine);
    const snapshotsBefore = engine.snapshots.size;
    const input = {
      dsourceId: dsource.id,
      snapshotParameters: { resync: false },
      trigger: { kind: 'schedule', id: 'daily' },
    };
    return { engine, hosts, dsource, input, snapshotsBefore };
  }

  it('mounts, copies, snapshots with provenance and unmounts', async () => {
    const { engine, hosts, dsource, input } = await setUp();

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toEqual({ status: 'SUCCEEDED', output: { dsourceId: dsource.id, snapshotId: expect.any(String) } });
    expect(hosts.documents).toEqual(['mount', 'copy', 'unmount']);
    expect(hosts.sent.every((command) => command.hostId === 'i-0staging')).toBe(true);
    const snapshotId = result.status === 'SUCCEEDED' ? (result.output as { snapshotId: string }).snapshotId : '';
    expect(engine.snapshots.get(snapshotId)?.provenance).toMatchObject({
      trigger: { kind: 'schedule', id: 'daily' },
      filesTransferred: 1234,
      bytesTransferred: 56789,
      durationMs: expect.any(Number),
    });
  });

  it('gives the engine a request token of the execution and state, so that a retried step snapshots once', async () => {
    const { engine, hosts, dsource, input } = await setUp();

    await runWorkflow('sync', input, { engine }, hosts);

    expect(callsOf(engine, 'snapshotDataset')).toEqual([
      [
        dsource.id,
        expect.objectContaining({ requestToken: expect.stringMatching(/:execution:Sync.*:[\w-]+#RecordSnapshot$/) }),
      ],
    ]);
  });

  it('deletes the snapshot it recorded when the last unmount fails, failing with the unmount error', async () => {
    const hosts = new FakeHosts({ copy: copied, unmount: [stagingBusy] });
    const { engine, input, snapshotsBefore } = await setUp(hosts);

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'MountPointBusyError',
      message: 'linkedSource.mountLocation /mnt/staging/data is still in use: busy (host i-0staging)',
    });
    expect(hosts.documents).toEqual(['mount', 'copy', 'unmount']);
    expect(engine.methods.filter((method) => /^(snapshotDataset|deleteSnapshot)$/.test(method))).toEqual([
      'snapshotDataset',
      'deleteSnapshot',
    ]);
    expect(engine.snapshots.size).toBe(snapshotsBefore);
  });

  it('says what is left when the snapshot cannot be deleted either', async () => {
    const hosts = new FakeHosts({ copy: copied, unmount: [stagingBusy] });
    const { engine, input } = await setUp(hosts);
    engine.failNext('deleteSnapshot', storageError('disk gone'));

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'MountPointBusyError' });
    expect(result.status === 'FAILED' && result.cause).toContain('(undo failed too, clean up by hand: StorageError');
  });

  it('reports both errors when the unmount after a failed copy fails too', async () => {
    const hosts = new FakeHosts({
      copy: failedWith('snapflow-error: CopyFailedError: rsync failed'),
      unmount: [stagingBusy],
    });
    const { engine, input, snapshotsBefore } = await setUp(hosts);

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'CopyFailedError',
      message: 'rsync failed (host i-0staging)',
    });
    expect(result.status === 'FAILED' && result.cause).toContain(
      '(undo failed too, clean up by hand: MountPointBusyError',
    );
    expect(engine.snapshots.size).toBe(snapshotsBefore);
  });

  it('fails with the copy error, unmounts, and records no snapshot', async () => {
    const hosts = new FakeHosts({
      copy: failedWith('snapflow-error: CopyFailedError: rsync from /srv failed with exit code 23'),
    });
    const { engine, input, snapshotsBefore } = await setUp(hosts);

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'CopyFailedError',
      cause: expect.stringContaining('exit code 23'),
    });
    expect(hosts.documents).toEqual(['mount', 'copy', 'unmount']);
    expect(engine.snapshots.size).toBe(snapshotsBefore);
  });

  it('does not unmount what it failed to mount', async () => {
    const hosts = new FakeHosts({
      mount: failedWith('snapflow-error: MountPointBusyError: MountPath /mnt/staging/data is busy'),
    });
    const { engine, input } = await setUp(hosts);

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'MountPointBusyError',
      message: 'linkedSource.mountLocation /mnt/staging/data is busy (host i-0staging)',
    });
    expect(hosts.documents).toEqual(['mount']);
  });

  it('cancels a copy that outlives its timeouts and fails with HostCommandTimedOutError', async () => {
    const hosts = new FakeHosts({ copy: 'never-ends' });
    const { engine, input } = await setUp(hosts);

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'HostCommandTimedOutError' });
    expect(hosts.cancelled).toEqual(['copy']);
    expect(hosts.documents).toEqual(['mount', 'copy', 'unmount']);
  });

  it('refuses a dSource whose local copy would read another host, before touching a host', async () => {
    const { engine, hosts, dsource, input } = await setUp();
    engine.dsources.set(dsource.id, { ...dsource, parameters: { ...dsource.parameters, sourceAddress: 'localhost' } });

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'ValidationError',
      message: expect.stringMatching(/^linkedSource\.sourceAddress localhost copies on the staging host i-0staging/),
    });
    expect(hosts.sent).toEqual([]);
  });

  it('fails with ValidationError before touching a host', async () => {
    const { engine, hosts, input } = await setUp();

    const result = await runWorkflow('sync', { ...input, snapshotParameters: {} }, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
    expect(hosts.sent).toEqual([]);
  });
});

describe('link workflow', () => {
  it('creates the dSource and fills it with a resync', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({ copy: copied });
    const request = linkRequest(await seedSource(engine));

    const result = await runWorkflow('link', request, { engine }, hosts);

    expect(result).toEqual({
      status: 'SUCCEEDED',
      output: { dsourceId: expect.any(String), snapshotId: expect.any(String) },
    });
    expect(hosts.sent.find((command) => command.document === 'copy')?.parameters.Resync).toEqual(['true']);
    const [snapshot] = engine.snapshots.values();
    expect(snapshot?.provenance.trigger).toEqual({ kind: 'workflow', id: expect.stringMatching(/:execution:Link/) });
  });

  it('unmounts the dSource (only it) and deletes it when the sync fails, failing with the sync error', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({
      copy: failedWith('snapflow-error: CopyFailedError: rsync from /srv failed with exit code 12'),
    });
    const request = linkRequest(await seedSource(engine));

    const result = await runWorkflow('link', request, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'CopyFailedError',
      message: 'rsync from /srv failed with exit code 12 (host i-0staging)',
    });
    expect(hosts.documents).toEqual(['mount', 'copy', 'unmount', 'unmount']);
    const [, , , linkUnmount] = hosts.sent;
    const mounted = hosts.sent[0]?.parameters.Source;
    expect(linkUnmount?.parameters).toEqual({ MountPath: ['/mnt/staging/data'], Source: mounted });
    expect(engine.dsources.size).toBe(0);
  });

  it("unmounts with the dSource's export as Source after a failed mount, so another filesystem there stays", async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({
      mount: failedWith(
        'snapflow-error: MountPointBusyError: MountPath /mnt/staging/data already has another filesystem',
      ),
    });
    const request = linkRequest(await seedSource(engine));

    const result = await runWorkflow('link', request, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'MountPointBusyError' });
    expect(hosts.documents).toEqual(['mount', 'unmount']);
    expect(hosts.sent[1]?.parameters.Source).toEqual(hosts.sent[0]?.parameters.Source);
    expect(engine.dsources.size).toBe(0);
  });

  it.each<[string, HostOutcome[], string]>([
    ['the sync and the link both fail to unmount after a failed copy', [stagingBusy, stagingBusy], 'CopyFailedError'],
    ["the sync's last unmount and the link's both fail", [stagingBusy, stagingBusy], 'MountPointBusyError'],
  ])('keeps the dSource when %s, reporting both errors', async (_, unmounts, error) => {
    const engine = new FakeEngine();
    const copy = error === 'CopyFailedError' ? failedWith('snapflow-error: CopyFailedError: rsync failed') : copied;
    const hosts = new FakeHosts({ copy, unmount: [...unmounts] });
    const request = linkRequest(await seedSource(engine));

    const result = await runWorkflow('link', request, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error });
    expect(result.status === 'FAILED' && result.cause).toContain(
      '(undo failed too, clean up by hand: MountPointBusyError',
    );
    expect(hosts.documents).toEqual(['mount', 'copy', 'unmount', 'unmount']);
    expect(engine.methods).not.toContain('deleteDSource');
    expect(engine.dsources.size).toBe(1);
    expect(engine.snapshots.size).toBe(0);
  });

  it("deletes the dSource once the link's own unmount succeeds where the sync's failed", async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({ copy: copied, unmount: [stagingBusy] });
    const request = linkRequest(await seedSource(engine));

    const result = await runWorkflow('link', request, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'MountPointBusyError' });
    expect(result.status === 'FAILED' && result.cause).not.toContain('undo failed too');
    expect(engine.dsources.size).toBe(0);
    expect(engine.snapshots.size).toBe(0);
  });

  it('says so when the undo fails too', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({ copy: failedWith('snapflow-error: CopyFailedError: rsync failed') });
    const request = linkRequest(await seedSource(engine));
    engine.failNext('deleteDSource', storageError('disk gone'));

    const result = await runWorkflow('link', request, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      cause: expect.stringContaining('undo failed too, clean up by hand: StorageError'),
    });
  });

  it('links with the dsourceId the caller chose', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({ copy: copied });
    const request = { ...linkRequest(await seedSource(engine)), dsourceId: 'ds-00000000000000aa' };

    const result = await runWorkflow('link', request, { engine }, hosts);

    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { dsourceId: 'ds-00000000000000aa' } });
    expect(engine.dsources.get('ds-00000000000000aa')).toMatchObject({ name: 'data' });
  });

  it('refuses a dsourceId that is taken, leaving that dSource alone', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({ copy: copied });
    const { dsource, ...seeded } = await seedSnapshot(engine);

    const result = await runWorkflow('link', { ...linkRequest(seeded), dsourceId: dsource.id }, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ConflictError' });
    expect(engine.dsources.get(dsource.id)).toEqual(dsource);
    expect(hosts.sent).toEqual([]);
  });

  it('refuses a copy from localhost when the source config is on another host, creating nothing', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts();
    const request = linkRequest(await seedSource(engine), { sourceAddress: 'localhost' });

    const result = await runWorkflow('link', request, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'ValidationError',
      message: expect.stringMatching(
        /^linkedSource\.sourceAddress localhost copies on the staging host i-0staging .* but source config sc-\w+ is on host i-0source/,
      ),
    });
    expect(result.status === 'FAILED' && result.cause).toContain('Give the address of host i-0source');
    expect(engine.dsources.size).toBe(0);
    expect(hosts.sent).toEqual([]);
  });

  it('creates nothing for a mount location in a system directory', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts();
    const request = linkRequest(await seedSource(engine), { mountLocation: '/usr/local/data' });

    const result = await runWorkflow('link', request, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
    expect(engine.dsources.size).toBe(0);
    expect(hosts.sent).toEqual([]);
  });
});

describe('provision workflow', () => {
  type ProvisionRequest = Awaited<ReturnType<typeof setUp>>['input'];

  async function setUp(hosts: FakeHosts) {
    const engine = new FakeEngine();
    const { snapshot, targetHost } = await seedSnapshot(engine);
    const input = {
      name: 'dev',
      snapshotId: snapshot.id,
      environmentId: targetHost.id,
      virtualSource: { mountLocation: '/mnt/vdbs/dev' },
    };
    return { engine, hosts, input };
  }

  it('checks the mount point, clones, mounts, configures and snapshots the VDB', async () => {
    const { engine, hosts, input } = await setUp(new FakeHosts());

    const result = await runWorkflow('provision', input, { engine }, hosts);

    expect(result).toEqual({
      status: 'SUCCEEDED',
      output: {
        vdbId: expect.any(String),
        snapshotId: expect.any(String),
        mountLocation: '/mnt/vdbs/dev',
        timeflowId: expect.any(String),
      },
    });
    expect(hosts.documents).toEqual(['check-mount-point', 'mount']);
    const output = outputOf<{ vdbId: string; snapshotId: string; timeflowId: string }>(result);
    expect(engine.vdbs.get(output.vdbId)).toMatchObject({
      status: 'RUNNING',
      enabled: true,
      currentTimeflowId: output.timeflowId,
      sourceConfig: { name: 'VDB mounted at /mnt/vdbs/dev', path: '/mnt/vdbs/dev' },
    });
    expect(engine.snapshots.get(output.snapshotId)).toMatchObject({
      datasetId: output.vdbId,
      timeflowId: output.timeflowId,
      provenance: { trigger: { kind: 'workflow', id: expect.stringMatching(/:execution:Provision/) } },
    });
    expect(callsOf(engine, 'snapshotDataset')).toEqual([
      [
        output.vdbId,
        expect.objectContaining({ requestToken: expect.stringMatching(/:execution:Provision.*#SnapshotVdb$/) }),
      ],
    ]);
  });

  it('provisions the latest snapshot of sourceDataId, with the vdbId the caller chose', async () => {
    const { engine, hosts, input } = await setUp(new FakeHosts());
    const { snapshotId, ...rest } = input;
    const dsourceId = (engine.snapshots.get(snapshotId) as { datasetId: string }).datasetId;
    const latest = await engine.snapshotDataset(dsourceId, {
      provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
      metadata: {},
    });

    const result = await runWorkflow(
      'provision',
      { ...rest, sourceDataId: dsourceId, vdbId: 'vdb-00000000000000aa' },
      { engine },
      hosts,
    );

    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { vdbId: 'vdb-00000000000000aa' } });
    expect(engine.vdbs.get('vdb-00000000000000aa')).toMatchObject({
      parentDatasetId: dsourceId,
      parentSnapshotId: latest.id,
    });
  });

  it.each([
    [
      'both snapshotId and sourceDataId',
      (input: ProvisionRequest) => ({ ...input, sourceDataId: 'ds-0000000000000004' }),
    ],
    ['neither snapshotId nor sourceDataId', ({ snapshotId, ...input }: ProvisionRequest) => input],
  ])('creates nothing when given %s', async (_, change) => {
    const { engine, hosts, input } = await setUp(new FakeHosts());

    const result = await runWorkflow('provision', change(input), { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
    expect(hosts.sent).toEqual([]);
    expect(engine.methods).not.toContain('createVdb');
  });

  it('refuses a vdbId that is taken, leaving that VDB alone', async () => {
    const { engine, hosts, input } = await setUp(new FakeHosts());
    const taken = await engine.createVdb({
      name: 'other',
      snapshotId: input.snapshotId,
      environmentId: input.environmentId,
      parameters: { mountLocation: '/mnt/vdbs/other' },
    });

    const result = await runWorkflow('provision', { ...input, vdbId: taken.id }, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ConflictError' });
    expect(engine.vdbs.get(taken.id)).toEqual(taken);
    expect(hosts.sent).toEqual([]);
  });

  it('creates nothing when the mount location is not empty', async () => {
    const hosts = new FakeHosts({
      'check-mount-point': failedWith('snapflow-error: MountPointNotEmptyError: MountPath /mnt/vdbs/dev is not empty'),
    });
    const { engine, input } = await setUp(hosts);

    const result = await runWorkflow('provision', input, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'MountPointNotEmptyError',
      message: 'virtualSource.mountLocation /mnt/vdbs/dev is not empty (host i-0target)',
    });
    expect(engine.methods).not.toContain('createVdb');
  });

  it('unmounts the clone, records it STOPPED and deletes it when configuring fails', async () => {
    const { engine, hosts, input } = await setUp(new FakeHosts());
    engine.failNext('updateVdb', storageError('metadata write failed'));

    const result = await runWorkflow('provision', input, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError', message: 'metadata write failed' });
    expect(hosts.documents).toEqual(['check-mount-point', 'mount', 'unmount']);
    expect(hosts.sent[2]?.parameters).toEqual({
      MountPath: ['/mnt/vdbs/dev'],
      Source: hosts.sent[1]?.parameters.Source,
    });
    expect(engine.vdbs.size).toBe(0);
  });

  it('records the VDB STOPPED after the unmount and before the engine delete, which refuses a RUNNING one', async () => {
    const { engine, hosts, input } = await setUp(new FakeHosts());
    engine.failNext('snapshotDataset', storageError('snapshot failed'));

    const result = await runWorkflow('provision', input, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError', message: 'snapshot failed' });
    expect(hosts.documents).toEqual(['check-mount-point', 'mount', 'unmount']);
    const updates = callsOf(engine, 'updateVdb').map(([, update]) => update);
    expect(updates).toEqual([expect.objectContaining({ status: 'RUNNING' }), { status: 'STOPPED' }]);
    const order = engine.methods.filter((method) => method === 'updateVdb' || method === 'deleteVdb');
    expect(order).toEqual(['updateVdb', 'updateVdb', 'deleteVdb']);
    expect(engine.vdbs.size).toBe(0);
  });

  it('keeps the clone when its unmount fails, reporting both errors', async () => {
    const busy = failedWith('snapflow-error: MountPointBusyError: MountPath /mnt/vdbs/dev is still in use: busy');
    const { engine, hosts, input } = await setUp(new FakeHosts({ unmount: [busy] }));
    engine.failNext('snapshotDataset', storageError('snapshot failed'));

    const result = await runWorkflow('provision', input, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError', message: 'snapshot failed' });
    expect(result.status === 'FAILED' && result.cause).toContain(
      '(undo failed too, clean up by hand: MountPointBusyError',
    );
    expect(result.status === 'FAILED' && result.cause).toContain(
      'virtualSource.mountLocation /mnt/vdbs/dev is still in use',
    );
    expect(engine.methods).not.toContain('deleteVdb');
    expect(engine.vdbs.size).toBe(1);
  });

  it('deletes the VDB whose create timed out, by the id it planned, once the engine has made it', async () => {
    const { engine, hosts, input } = await setUp(new FakeHosts());
    const create = engine.createVdb.bind(engine);
    const exportDataset = engine.exportDataset.bind(engine);
    const deleteVdb = engine.deleteVdb.bind(engine);
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    let exported: () => void = () => undefined;
    const exportDone = new Promise<void>((resolve) => (exported = resolve));
    // The engine makes the clone but answers only after CreateVdb's 1 s is up; then, one change at a
    // time as the engine works, the timed-out handler's export runs before the undo's delete.
    vi.spyOn(engine, 'createVdb').mockImplementation(async (request) => {
      const vdb = await create(request);
      await answered;
      return vdb;
    });
    vi.spyOn(engine, 'exportDataset').mockImplementation((...args) => exportDataset(...args).finally(() => exported()));
    vi.spyOn(engine, 'deleteVdb').mockImplementation(async (id) => {
      answer();
      await exportDone;
      return deleteVdb(id);
    });

    const result = await runWorkflow('provision', input, { engine }, hosts, { lambdaTimeouts: { CreateVdb: 1 } });

    // middy ends the handler just before Lambda would, with its own TimeoutError.
    expect(result).toMatchObject({ status: 'FAILED', error: 'TimeoutError' });
    const [[planned]] = callsOf(engine, 'createVdb') as [[{ id: string }]];
    expect(planned.id).toMatch(/^vdb-[0-9a-f]{16}$/);
    expect(callsOf(engine, 'deleteVdb')).toEqual([[planned.id]]);
    expect(engine.vdbs.size).toBe(0);
    expect([...engine.timeflows.values()].map((timeflow) => timeflow.datasetId)).not.toContain(planned.id);
    expect(hosts.documents).toEqual(['check-mount-point']);
  });

  it('makes the VDB once when the engine made it but its answer was lost, and the create is retried', async () => {
    const { engine, hosts, input } = await setUp(new FakeHosts());
    const create = engine.createVdb.bind(engine);
    vi.spyOn(engine, 'createVdb')
      .mockImplementationOnce(async (request) => {
        await create(request);
        throw new SnapflowError(ErrorNames.EngineUnavailable, 'connection reset', { action: 'Retry.' });
      })
      .mockImplementation(create);

    const result = await runWorkflow('provision', input, { engine }, hosts);

    const { vdbId } = outputOf<{ vdbId: string }>(result);
    expect(callsOf(engine, 'createVdb')).toEqual([
      [expect.objectContaining({ id: vdbId })],
      [expect.objectContaining({ id: vdbId })],
    ]);
    expect([...engine.vdbs.keys()]).toEqual([vdbId]);
  });

  it('deletes by the planned id after a failed create, counting a VDB never made as deleted', async () => {
    const { engine, hosts, input } = await setUp(new FakeHosts());
    engine.failNext('createVdb', storageError('clone failed'));

    const result = await runWorkflow('provision', input, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError', message: 'clone failed' });
    const [[planned]] = callsOf(engine, 'createVdb') as [[{ id: string }]];
    expect(callsOf(engine, 'deleteVdb')).toEqual([[planned.id]]);
    expect(engine.vdbs.size).toBe(0);
  });

  it('deletes nothing when the engine refuses the create: a VDB with that id is not this run’s', async () => {
    const { engine, hosts, input } = await setUp(new FakeHosts());
    const other = await engine.createVdb({
      id: 'vdb-00000000000000bb',
      name: 'other',
      snapshotId: input.snapshotId,
      environmentId: input.environmentId,
      parameters: { mountLocation: '/mnt/vdbs/other' },
    });
    // A concurrent provision that chose the same id made its VDB after this one's plan.
    vi.spyOn(engine, 'getVdb').mockRejectedValueOnce(
      new SnapflowError(ErrorNames.NotFound, `VDB ${other.id} does not exist`, { action: 'Check the id.' }),
    );

    const result = await runWorkflow('provision', { ...input, vdbId: other.id }, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ConflictError' });
    expect(engine.methods).not.toContain('deleteVdb');
    expect(engine.vdbs.get(other.id)).toEqual(other);
  });

  it('unmounts only its own clone (its export as Source) and deletes it when the mount fails', async () => {
    const hosts = new FakeHosts({
      mount: failedWith('snapflow-error: MountPointBusyError: MountPath /mnt/vdbs/dev is busy'),
    });
    const { engine, input } = await setUp(hosts);

    const result = await runWorkflow('provision', input, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'MountPointBusyError' });
    expect(hosts.documents).toEqual(['check-mount-point', 'mount', 'unmount']);
    expect(hosts.sent[2]?.parameters.Source).toEqual(hosts.sent[1]?.parameters.Source);
    expect(engine.vdbs.size).toBe(0);
  });
});

describe('Run Command fragment', () => {
  it('names its states after the fragment and keeps the result at its result path', () => {
    const copy = workflowDefinition('sync').States.Copy;

    expect(copy).toMatchObject({
      Type: 'Parallel',
      ResultPath: '$.results.copy',
      ResultSelector: { 'Status.$': '$[0].invocation.Status', 'Output.$': '$[0].invocation.StandardOutputContent' },
    });
    const branch = copy?.Type === 'Parallel' ? copy.Branches[0] : undefined;
    expect(Object.keys(branch?.States ?? {}).sort()).toEqual(
      [
        'Copy.Cancel',
        'Copy.Check',
        'Copy.Count',
        'Copy.Failed',
        'Copy.Poll',
        'Copy.RaiseHostError',
        'Copy.Send',
        'Copy.Succeeded',
        'Copy.TimedOut',
        'Copy.Wait',
        'Copy.WaitBriefly',
      ].sort(),
    );
  });
});

describe('every workflow', () => {
  it.each(Object.keys(workflowInputSchemas) as WorkflowName[])(
    '%s validates its input in its first step, before it asks the engine or a host anything',
    async (workflow) => {
      const engine = new FakeEngine();
      const hosts = new FakeHosts();

      const result = await runWorkflow(workflow, { unknownField: true }, { engine }, hosts);

      expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
      expect(engine.calls).toEqual([]);
      expect(hosts.sent).toEqual([]);
    },
  );
});
