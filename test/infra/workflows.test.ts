import { describe, expect, it } from 'vitest';
import { ErrorNames, SnapflowError } from '../../lib/core/errors';
import { type WorkflowName, workflowInputSchemas } from '../../lib/core/workflow-inputs';
import { DEFAULT_TIMEOUT_SECONDS } from '../../lib/infra/ssm-documents';
import { linkRequest, seedSnapshot, seedSource } from '../support/engine-fixtures';
import { FakeEngine, fixedClock } from '../support/fake-engine';
import { FakeHosts, outputOf, runWorkflow } from '../support/run-workflow';
import { workflowDefinition } from '../support/snapflow-template';

const clock = fixedClock('2026-03-01T10:00:00.000Z');
const RSYNC_STATS = 'Number of regular files transferred: 1,234\nTotal transferred file size: 56,789 bytes\n';
const copied = { StandardOutputContent: RSYNC_STATS };
const failedWith = (line: string) => ({ Status: 'Failed', ResponseCode: 1, StandardErrorContent: `${line}\n` });

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

    const result = await runWorkflow('sync', input, { engine, clock }, hosts);

    expect(result).toEqual({ status: 'SUCCEEDED', output: { dsourceId: dsource.id, snapshotId: expect.any(String) } });
    expect(hosts.documents).toEqual(['mount', 'copy', 'unmount']);
    expect(hosts.sent.every((command) => command.hostId === 'i-0staging')).toBe(true);
    const snapshotId = result.status === 'SUCCEEDED' ? (result.output as { snapshotId: string }).snapshotId : '';
    expect(engine.snapshots.get(snapshotId)?.provenance).toMatchObject({
      trigger: { kind: 'schedule', id: 'daily' },
      filesTransferred: 1234,
      bytesTransferred: 56789,
      durationMs: 0,
    });
  });

  it('fails with the copy error, unmounts, and records no snapshot', async () => {
    const hosts = new FakeHosts({
      copy: failedWith('snapflow-error: CopyFailedError: rsync from /srv failed with exit code 23'),
    });
    const { engine, input, snapshotsBefore } = await setUp(hosts);

    const result = await runWorkflow('sync', input, { engine, clock }, hosts);

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

    const result = await runWorkflow('sync', input, { engine, clock }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'MountPointBusyError',
      cause: 'linkedSource.mountLocation /mnt/staging/data is busy (host i-0staging)',
    });
    expect(hosts.documents).toEqual(['mount']);
  });

  it('cancels a copy that outlives its timeouts and fails with HostCommandTimedOutError', async () => {
    const hosts = new FakeHosts({ copy: 'never-ends' });
    const { engine, input } = await setUp(hosts);

    const result = await runWorkflow('sync', input, { engine, clock }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'HostCommandTimedOutError' });
    expect(hosts.cancelled).toEqual(['copy']);
    expect(hosts.documents).toEqual(['mount', 'copy', 'unmount']);
  });

  it('fails with ValidationError before touching a host', async () => {
    const { engine, hosts, input } = await setUp();

    const result = await runWorkflow('sync', { ...input, snapshotParameters: {} }, { engine, clock }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
    expect(hosts.sent).toEqual([]);
  });
});

describe('link workflow', () => {
  it('creates the dSource and fills it with a resync', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({ copy: copied });
    const request = linkRequest(await seedSource(engine));

    const result = await runWorkflow('link', request, { engine, clock }, hosts);

    expect(result).toEqual({
      status: 'SUCCEEDED',
      output: { dsourceId: expect.any(String), snapshotId: expect.any(String) },
    });
    expect(hosts.sent.find((command) => command.document === 'copy')?.parameters.Resync).toEqual(['true']);
    const [snapshot] = engine.snapshots.values();
    expect(snapshot?.provenance.trigger).toEqual({ kind: 'workflow', id: expect.stringContaining(':execution:link:') });
  });

  it('deletes the dSource when the sync fails, failing with the sync error name', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({
      copy: failedWith('snapflow-error: CopyFailedError: rsync from /srv failed with exit code 12'),
    });
    const request = linkRequest(await seedSource(engine));

    const result = await runWorkflow('link', request, { engine, clock }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'CopyFailedError',
      cause: expect.stringContaining('exit code 12'),
    });
    expect(engine.dsources.size).toBe(0);
  });

  it('says so when the undo fails too', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({ copy: failedWith('snapflow-error: CopyFailedError: rsync failed') });
    const request = linkRequest(await seedSource(engine));
    engine.failNext('deleteDSource', new SnapflowError(ErrorNames.Storage, 'disk gone', { action: 'Check the pool.' }));

    const result = await runWorkflow('link', request, { engine, clock }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      cause: expect.stringContaining('undo failed too, clean up by hand: StorageError'),
    });
  });

  it('links with the dsourceId the caller chose', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({ copy: copied });
    const request = { ...linkRequest(await seedSource(engine)), dsourceId: 'ds-00000000000000aa' };

    const result = await runWorkflow('link', request, { engine, clock }, hosts);

    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { dsourceId: 'ds-00000000000000aa' } });
    expect(engine.dsources.get('ds-00000000000000aa')).toMatchObject({ name: 'data' });
  });

  it('refuses a dsourceId that is taken, leaving that dSource alone', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts({ copy: copied });
    const { dsource, ...seeded } = await seedSnapshot(engine);

    const result = await runWorkflow(
      'link',
      { ...linkRequest(seeded), dsourceId: dsource.id },
      { engine, clock },
      hosts,
    );

    expect(result).toMatchObject({ status: 'FAILED', error: 'ConflictError' });
    expect(engine.dsources.get(dsource.id)).toEqual(dsource);
    expect(hosts.sent).toEqual([]);
  });

  it('creates nothing for a mount location in a system directory', async () => {
    const engine = new FakeEngine();
    const hosts = new FakeHosts();
    const request = linkRequest(await seedSource(engine), { mountLocation: '/usr/local/data' });

    const result = await runWorkflow('link', request, { engine, clock }, hosts);

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

    const result = await runWorkflow('provision', input, { engine, clock }, hosts);

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
      provenance: { trigger: { kind: 'workflow', id: expect.stringContaining(':execution:provision:') } },
    });
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
      { engine, clock },
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

    const result = await runWorkflow('provision', change(input), { engine, clock }, hosts);

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

    const result = await runWorkflow('provision', { ...input, vdbId: taken.id }, { engine, clock }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'ConflictError' });
    expect(engine.vdbs.get(taken.id)).toEqual(taken);
    expect(hosts.sent).toEqual([]);
  });

  it('creates nothing when the mount location is not empty', async () => {
    const hosts = new FakeHosts({
      'check-mount-point': failedWith('snapflow-error: MountPointNotEmptyError: MountPath /mnt/vdbs/dev is not empty'),
    });
    const { engine, input } = await setUp(hosts);

    const result = await runWorkflow('provision', input, { engine, clock }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'MountPointNotEmptyError',
      cause: 'virtualSource.mountLocation /mnt/vdbs/dev is not empty (host i-0target)',
    });
    expect(engine.methods).not.toContain('createVdb');
  });

  it('unmounts and deletes the clone when configuring fails', async () => {
    const { engine, hosts, input } = await setUp(new FakeHosts());
    engine.failNext('updateVdb', new SnapflowError(ErrorNames.Storage, 'metadata write failed', { action: 'Retry.' }));

    const result = await runWorkflow('provision', input, { engine, clock }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError', cause: 'metadata write failed' });
    expect(hosts.documents).toEqual(['check-mount-point', 'mount', 'unmount']);
    expect(engine.vdbs.size).toBe(0);
  });

  it('deletes the clone without unmounting when the mount fails', async () => {
    const hosts = new FakeHosts({
      mount: failedWith('snapflow-error: MountPointBusyError: MountPath /mnt/vdbs/dev is busy'),
    });
    const { engine, input } = await setUp(hosts);

    const result = await runWorkflow('provision', input, { engine, clock }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'MountPointBusyError' });
    expect(hosts.documents).toEqual(['check-mount-point', 'mount']);
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

describe('nested sync in the link workflow', () => {
  it('waits for the child no longer than the child can run, and at least as long as its copy may take', () => {
    const sync = workflowDefinition('link').States.Sync;
    const copyTimeout = DEFAULT_TIMEOUT_SECONDS.copy;

    const timeout = sync?.Type === 'Task' ? sync.TimeoutSeconds : undefined;

    expect(timeout).toBeGreaterThan(copyTimeout);
    expect(timeout).toBeLessThan(2 * copyTimeout);
  });
});

describe('every workflow', () => {
  it.each(Object.keys(workflowInputSchemas) as WorkflowName[])(
    '%s validates its input in its first step, before it asks the engine or a host anything',
    async (workflow) => {
      const engine = new FakeEngine();
      const hosts = new FakeHosts();

      const result = await runWorkflow(workflow, { unknownField: true }, { engine, clock }, hosts);

      expect(result).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
      expect(engine.calls).toEqual([]);
      expect(hosts.sent).toEqual([]);
    },
  );
});
