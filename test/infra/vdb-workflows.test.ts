import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorNames, SnapflowError } from '../../lib/core/errors';
import { operations } from '../../lib/plugins/directory-tree/operations';
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
const storageError = () => new SnapflowError(ErrorNames.Storage, 'metadata write failed', { action: 'Retry.' });

async function setUp(hosts = new FakeHosts()) {
  const engine = new FakeEngine();
  const seeded = await seedVdb(engine);
  return { engine, hosts, ports: { engine }, ...seeded };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('snapshot-vdb workflow', () => {
  it('snapshots the current timeflow with its trigger, touching no host', async () => {
    const { engine, hosts, ports, vdb } = await setUp();

    const result = await runWorkflow('snapshot-vdb', { vdbId: vdb.id, trigger: { kind: 'api' } }, ports, hosts);

    expect(result).toEqual({ status: 'SUCCEEDED', output: { vdbId: vdb.id, snapshotId: expect.any(String) } });
    const { snapshotId } = outputOf<{ snapshotId: string }>(result);
    expect(engine.snapshots.get(snapshotId)).toMatchObject({
      datasetId: vdb.id,
      timeflowId: vdb.currentTimeflowId,
      metadata: {},
      provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
    });
    expect(hosts.sent).toEqual([]);
    const [, request] = engine.calls.find((call) => call.method === 'snapshotDataset')?.args ?? [];
    expect(request).toMatchObject({ requestToken: expect.stringMatching(/:execution:SnapshotVdb.*#SnapshotVdb$/) });
  });

  it('refuses a disabled VDB with ConflictError', async () => {
    const { engine, hosts, ports, vdb } = await setUp();
    await engine.updateVdb(vdb.id, { enabled: false, status: 'STOPPED' });

    const result = await runWorkflow('snapshot-vdb', { vdbId: vdb.id, trigger: { kind: 'api' } }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ConflictError' });
    expect(engine.methods).not.toContain('snapshotDataset');
  });
});

describe('export workflow', () => {
  const stats = 'Number of regular files transferred: 12\nTotal transferred file size: 3,456 bytes\n';

  async function setUpExport(hosts = new FakeHosts({ export: { StandardOutputContent: stats } })) {
    const seeded = await setUp(hosts);
    const input = { vdbId: seeded.vdb.id, environmentId: seeded.targetHost.id, targetPath: '/srv/exports/dev/' };
    return { ...seeded, input };
  }

  it("mounts the VDB's latest snapshot read-only in scratch space, copies it, unmounts and reports", async () => {
    const { engine, hosts, ports, vdb, vdbSnapshot, input } = await setUpExport();

    const result = await runWorkflow('export', input, ports, hosts);

    expect(result).toEqual({
      status: 'SUCCEEDED',
      output: {
        vdbId: vdb.id,
        snapshotId: vdbSnapshot.id,
        targetPath: '/srv/exports/dev',
        filesTransferred: 12,
        bytesTransferred: 3456,
      },
    });
    const scratch = expect.stringMatching(/^\/var\/tmp\/snapflow\/v2p-[\w-]+$/);
    expect(hosts.sent).toEqual([
      {
        document: 'mount',
        hostId: 'i-0target',
        parameters: { ExportKind: ['bind'], Source: [vdbSnapshot.path], MountPath: [scratch], Access: ['ro'] },
      },
      { document: 'export', hostId: 'i-0target', parameters: { Source: [scratch], Destination: ['/srv/exports/dev'] } },
      { document: 'unmount', hostId: 'i-0target', parameters: { MountPath: [scratch], RemoveMountPoint: ['true'] } },
    ]);
    expect(engine.methods).toContain('exportSnapshot');
  });

  it('unmounts the snapshot when the copy fails, failing with the copy error', async () => {
    const hosts = new FakeHosts({
      export: failedWith('snapflow-error: CopyFailedError: rsync to /srv/exports/dev failed with exit code 11'),
    });
    const { ports, input } = await setUpExport(hosts);

    const result = await runWorkflow('export', input, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'CopyFailedError',
      message: 'rsync to /srv/exports/dev failed with exit code 11 (host i-0target)',
    });
    expect(hosts.documents).toEqual(['mount', 'export', 'unmount']);
  });

  it('reports both errors when the snapshot cannot be unmounted after a failed copy', async () => {
    const hosts = new FakeHosts({
      export: failedWith('snapflow-error: CopyFailedError: rsync to /srv/exports/dev failed with exit code 11'),
      unmount: [failedWith('snapflow-error: MountPointBusyError: MountPath /var/tmp/snapflow/v2p-x is still in use')],
    });
    const { ports, input } = await setUpExport(hosts);

    const result = await runWorkflow('export', input, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'CopyFailedError' });
    expect(result.status === 'FAILED' && result.cause).toMatch(
      /\(undo failed too, clean up by hand: MountPointBusyError: MountPath \/var\/tmp\/snapflow\/v2p-x is still in use \(host i-0target\)\)$/,
    );
  });

  it.each([
    ['inside the VDB mount location', '/mnt/vdbs/dev/copy', 'overlaps the mount location /mnt/vdbs/dev'],
    ['around the VDB mount location', '/mnt', 'overlaps the mount location /mnt/vdbs/dev'],
    ['in the scratch path', '/var/tmp/snapflow/mine', 'overlaps the scratch path /var/tmp/snapflow'],
    ['in a system directory', '/usr/share/copy', 'is inside the system directory /usr'],
  ])('refuses a target path %s, naming targetPath, before touching a host', async (_, targetPath, problem) => {
    const { hosts, ports, input } = await setUpExport();

    const result = await runWorkflow('export', { ...input, targetPath }, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'ValidationError',
      message: expect.stringMatching(new RegExp(`^targetPath .*${problem}`)),
    });
    expect(hosts.sent).toEqual([]);
  });

  it("refuses a snapshot that is not the VDB's own", async () => {
    const { hosts, ports, input, snapshot } = await setUpExport();

    const result = await runWorkflow('export', { ...input, snapshotId: snapshot.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
    expect(hosts.sent).toEqual([]);
  });
});

describe('stop-vdb and start-vdb workflows', () => {
  it('stop runs virtual.stop, unmounts and records STOPPED; start mounts again and records RUNNING', async () => {
    const { engine, hosts, ports, vdb } = await setUp();
    const stop = vi.spyOn(operations.virtual, 'stop');
    const start = vi.spyOn(operations.virtual, 'start');

    const stopped = await runWorkflow('stop-vdb', { vdbId: vdb.id }, ports, hosts);
    const started = await runWorkflow('start-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(stopped).toEqual({ status: 'SUCCEEDED', output: { vdbId: vdb.id, status: 'STOPPED', enabled: true } });
    expect(started).toEqual({ status: 'SUCCEEDED', output: { vdbId: vdb.id, status: 'RUNNING', enabled: true } });
    expect(hosts.documents).toEqual(['unmount', 'mount']);
    expect(hosts.sent[1]?.parameters.Source).toEqual([engine.timeflows.get(vdb.currentTimeflowId)?.path]);
    expect(stop).toHaveBeenCalledOnce();
    expect(start).toHaveBeenCalledOnce();
  });

  it('stop mounts and starts the VDB again when the unmount fails', async () => {
    const { engine, hosts, ports, vdb } = await setUp(new FakeHosts({ unmount: [busy] }));

    const result = await runWorkflow('stop-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'MountPointBusyError' });
    expect(hosts.documents).toEqual(['unmount', 'mount']);
    expect(engine.vdbs.get(vdb.id)).toMatchObject({ status: 'RUNNING' });
  });

  it('start unmounts a VDB that was stopped when recording RUNNING fails', async () => {
    const { engine, hosts, ports, vdb } = await setUp();
    await engine.updateVdb(vdb.id, { status: 'STOPPED' });
    engine.failNext('updateVdb', storageError());

    const result = await runWorkflow('start-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError' });
    expect(hosts.documents).toEqual(['mount', 'unmount']);
    expect(engine.vdbs.get(vdb.id)).toMatchObject({ status: 'STOPPED' });
  });

  it.each(['start-vdb', 'stop-vdb'] as const)('%s refuses a disabled VDB, naming the way out', async (workflow) => {
    const { engine, hosts, ports, vdb } = await setUp();
    await engine.updateVdb(vdb.id, { enabled: false, status: 'STOPPED' });

    const result = await runWorkflow(workflow, { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'ConflictError',
      message: `${workflow} refused: VDB ${vdb.id} is disabled`,
    });
    expect(hosts.sent).toEqual([]);
  });
});

describe('disable-vdb and enable-vdb workflows', () => {
  it('disable unconfigures and unmounts; enable asks status, mounts and reconfigures', async () => {
    const { engine, hosts, ports, vdb } = await setUp();
    const unconfigure = vi.spyOn(operations.virtual, 'unconfigure');
    const reconfigure = vi.spyOn(operations.virtual, 'reconfigure');

    const disabled = await runWorkflow('disable-vdb', { vdbId: vdb.id }, ports, hosts);
    const enabled = await runWorkflow('enable-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(disabled).toEqual({ status: 'SUCCEEDED', output: { vdbId: vdb.id, status: 'STOPPED', enabled: false } });
    expect(enabled).toEqual({ status: 'SUCCEEDED', output: { vdbId: vdb.id, status: 'RUNNING', enabled: true } });
    expect(hosts.documents).toEqual(['unmount', 'mount']);
    expect(unconfigure).toHaveBeenCalledOnce();
    expect(reconfigure).toHaveBeenCalledWith(vdb.sourceConfig);
    expect(engine.vdbs.get(vdb.id)?.sourceConfig).toEqual(vdb.sourceConfig);
  });

  it('enable only records an ACTIVE dataset enabled, touching no host', async () => {
    const { engine, hosts, ports, vdb } = await setUp();
    await engine.updateVdb(vdb.id, { enabled: false, status: 'STOPPED' });
    vi.spyOn(operations.virtual, 'status').mockReturnValue('ACTIVE');

    const result = await runWorkflow('enable-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(result).toEqual({ status: 'SUCCEEDED', output: { vdbId: vdb.id, status: 'RUNNING', enabled: true } });
    expect(hosts.sent).toEqual([]);
  });

  it('disable mounts and reconfigures the VDB again when recording it fails', async () => {
    const { engine, hosts, ports, vdb } = await setUp();
    engine.failNext('updateVdb', storageError());

    const result = await runWorkflow('disable-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError' });
    expect(hosts.documents).toEqual(['unmount', 'mount']);
    expect(engine.vdbs.get(vdb.id)).toMatchObject({ status: 'RUNNING', enabled: true });
  });
});

describe('delete-vdb workflow', () => {
  it('unconfigures, cleans up, unmounts, records STOPPED and deletes the VDB with its timeflows and snapshots', async () => {
    const { engine, hosts, ports, vdb } = await setUp();
    const cleanup = vi.spyOn(operations.virtual, 'cleanup');

    const result = await runWorkflow('delete-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(result).toEqual({ status: 'SUCCEEDED', output: { vdbId: vdb.id } });
    expect(hosts.documents).toEqual(['unmount']);
    expect(cleanup).toHaveBeenCalledOnce();
    // The engine refuses to delete a RUNNING VDB: it is told STOPPED once the unmount succeeded.
    const changes = engine.calls.filter((call) => call.method === 'updateVdb' || call.method === 'deleteVdb');
    expect(changes.map((call) => [call.method, call.args[1]])).toEqual([
      ['updateVdb', { status: 'STOPPED' }],
      ['deleteVdb', undefined],
    ]);
    expect(engine.vdbs.has(vdb.id)).toBe(false);
    expect([...engine.snapshots.values()].filter((snapshot) => snapshot.datasetId === vdb.id)).toEqual([]);
  });

  it('refuses, naming them, while VDBs were provisioned from its snapshots, before touching the host', async () => {
    const { engine, hosts, ports, vdb, vdbSnapshot } = await setUp();
    const child = await engine.createVdb({
      name: 'child',
      snapshotId: vdbSnapshot.id,
      environmentId: vdb.environmentId,
      parameters: { mountLocation: '/mnt/vdbs/child' },
    });

    const result = await runWorkflow('delete-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'DependentsExistError',
      cause: expect.stringContaining(
        `vdb ${child.id} (VDB ${child.id} was provisioned from snapshot ${vdbSnapshot.id})`,
      ),
    });
    expect(hosts.sent).toEqual([]);
    expect(engine.vdbs.get(vdb.id)).toMatchObject({ status: 'RUNNING' });
  });

  it('deletes nothing when the unmount fails, and leaves the VDB mounted and RUNNING', async () => {
    const { engine, hosts, ports, vdb } = await setUp(new FakeHosts({ unmount: [busy] }));

    const result = await runWorkflow('delete-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'MountPointBusyError',
      message: 'virtualSource.mountLocation /mnt/vdbs/dev is still in use: target is busy (host i-0target)',
    });
    expect(hosts.documents).toEqual(['unmount', 'mount']);
    expect(engine.methods).not.toContain('deleteVdb');
    expect(engine.vdbs.get(vdb.id)).toMatchObject({ status: 'RUNNING', sourceConfig: vdb.sourceConfig });
  });

  it('does not record a STOPPED VDB again before deleting it', async () => {
    const { engine, hosts, ports, vdb } = await setUp();
    await engine.updateVdb(vdb.id, { status: 'STOPPED' });
    engine.calls.length = 0;

    const result = await runWorkflow('delete-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(engine.methods).not.toContain('updateVdb');
    expect(engine.vdbs.has(vdb.id)).toBe(false);
  });

  it('mounts and reconfigures the VDB again when the engine cannot delete it', async () => {
    const { engine, hosts, ports, vdb } = await setUp();
    engine.failNext('deleteVdb', storageError());

    const result = await runWorkflow('delete-vdb', { vdbId: vdb.id }, ports, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError' });
    expect(hosts.documents).toEqual(['unmount', 'mount']);
    expect(engine.vdbs.get(vdb.id)).toMatchObject({ status: 'RUNNING', sourceConfig: vdb.sourceConfig });
  });

  it('deletes a VDB a failed provision left PROVISIONING, mounting nothing when the delete fails', async () => {
    const { engine, hosts, ports, snapshot, targetHost } = await setUp();
    const stuck = await engine.createVdb({
      name: 'stuck',
      snapshotId: snapshot.id,
      environmentId: targetHost.id,
      parameters: { mountLocation: '/mnt/vdbs/stuck' },
    });
    engine.failNext('deleteVdb', storageError());

    const failed = await runWorkflow('delete-vdb', { vdbId: stuck.id }, ports, hosts);
    const deleted = await runWorkflow('delete-vdb', { vdbId: stuck.id }, ports, hosts);

    expect(failed).toMatchObject({ status: 'FAILED', error: 'StorageError' });
    expect(deleted).toMatchObject({ status: 'SUCCEEDED' });
    expect(hosts.documents).toEqual(['unmount', 'unmount']);
  });
});

describe('delete-dsource workflow', () => {
  it('stops staging, unmounts the staging mount and deletes the dSource', async () => {
    const { engine, hosts, ports, vdb, dsource } = await setUp();
    await engine.deleteVdb(vdb.id);
    const stopStaging = vi.spyOn(operations.linked, 'stopStaging');

    const result = await runWorkflow('delete-dsource', { dsourceId: dsource.id }, ports, hosts);

    expect(result).toEqual({ status: 'SUCCEEDED', output: { dsourceId: dsource.id } });
    expect(hosts.sent).toEqual([
      {
        document: 'unmount',
        hostId: 'i-0staging',
        parameters: {
          MountPath: ['/mnt/staging/data'],
          Source: [`/var/lib/snapflow/timeflows/${dsource.currentTimeflowId}`],
        },
      },
    ]);
    expect(stopStaging).toHaveBeenCalledOnce();
    expect(engine.dsources.has(dsource.id)).toBe(false);
  });

  it('deletes nothing when the staging mount cannot be unmounted', async () => {
    const { engine, ports, vdb, dsource } = await setUp();
    await engine.deleteVdb(vdb.id);
    const hosts = new FakeHosts({
      unmount: [failedWith('snapflow-error: MountPointBusyError: MountPath /mnt/staging/data is still in use: busy')],
    });

    const result = await runWorkflow('delete-dsource', { dsourceId: dsource.id }, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'MountPointBusyError',
      message: 'linkedSource.mountLocation /mnt/staging/data is still in use: busy (host i-0staging)',
    });
    expect(engine.methods).not.toContain('deleteDSource');
    expect(engine.dsources.has(dsource.id)).toBe(true);
  });

  it('refuses, naming the VDB, while a VDB uses its snapshots, before touching the host', async () => {
    const { engine, hosts, ports, vdb, dsource } = await setUp();

    const result = await runWorkflow('delete-dsource', { dsourceId: dsource.id }, ports, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'DependentsExistError',
      cause: expect.stringContaining(`vdb ${vdb.id}`),
    });
    expect(hosts.sent).toEqual([]);
    expect(engine.dsources.has(dsource.id)).toBe(true);
  });
});
