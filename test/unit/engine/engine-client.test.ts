import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineClient, type EngineClient } from '../../../lib/adapters/engine-client';
import { ErrorNames, SnapflowError, TransientErrorNames } from '../../../lib/core/errors';
import type { Provenance } from '../../../lib/core/model';
import { type RunningEngine, startEngine } from '../../../lib/engine/start-engine';
import { makeTempRoot, removeTempRoot } from '../../support/engine-temp-root';

const TOKEN = 'client-test-token-0123456789abcdef';
/** For promises that must reject: resolving fails the test. */
function unexpected(value: unknown): never {
  throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
}

const provenance: Provenance = { trigger: { kind: 'workflow', id: 'exec-1' }, pluginVersion: '0.1.0' };

describe('createEngineClient', () => {
  let root: string;
  let running: RunningEngine;

  beforeAll(async () => {
    root = await makeTempRoot('client');
    running = await startEngine({ root: join(root, 'engine'), backend: 'dir', token: TOKEN });
  });

  afterAll(async () => {
    try {
      await running.destroy();
    } finally {
      await removeTempRoot(root);
    }
  });

  it('runs the whole API round trip over HTTP', async () => {
    // Prepare
    const client = createEngineClient({ url: `${running.url}/`, token: TOKEN });

    // Act: link, sync, snapshot, provision, use, tear down.
    const environment = await client.createEnvironment({ name: 'local', hostId: 'local' });
    const sourceConfig = await client.createSourceConfig({
      environmentId: environment.id,
      name: 'data',
      path: '/srv/data',
    });
    const dsource = await client.createDSource({
      name: 'data',
      sourceConfigId: sourceConfig.id,
      stagingEnvironmentId: environment.id,
      parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/client-staging' },
    });
    const staging = await client.exportDataset(dsource.id, { readOnly: false });
    await writeFile(join(staging.source, 'data.txt'), 'synced');
    const snapshot = await client.snapshotDataset(dsource.id, { provenance, metadata: {} });
    const vdb = await client.createVdb({
      name: 'dev',
      snapshotId: snapshot.id,
      environmentId: environment.id,
      parameters: { mountLocation: '/mnt/client-vdb' },
    });
    const mounted = await client.exportDataset(vdb.id, { readOnly: true });
    const running_ = await client.updateVdb(vdb.id, {
      status: 'RUNNING',
      sourceConfig: { name: 'VDB mounted at /mnt/client-vdb', path: '/mnt/client-vdb' },
    });

    // Assess
    expect(await client.getEnvironment(environment.id)).toEqual(environment);
    expect(await client.listEnvironments()).toEqual([environment]);
    expect(await client.getSourceConfig(sourceConfig.id)).toEqual(sourceConfig);
    expect(await client.getDSource(dsource.id)).toEqual(dsource);
    expect(await client.listDSources()).toEqual([dsource]);
    expect(staging).toEqual({ datasetId: dsource.id, kind: 'bind', source: expect.any(String), readOnly: false });
    expect(snapshot).toMatchObject({ datasetId: dsource.id, provenance, metadata: {} });
    expect(await client.getSnapshot(snapshot.id)).toEqual(snapshot);
    expect(await client.listSnapshots({ datasetId: dsource.id })).toEqual([snapshot]);
    expect(await client.listSnapshots()).toEqual([snapshot]);
    expect(mounted.readOnly).toBe(true);
    expect(await readFile(join(mounted.source, 'data.txt'), 'utf8')).toBe('synced');
    expect(running_.status).toBe('RUNNING');
    expect(await client.listVdbs()).toEqual([running_]);
    expect(await client.getVdb(vdb.id)).toEqual(running_);
    expect(await client.health()).toMatchObject({ status: 'ok', backend: { kind: 'dir' } });

    // Act and assess: a RUNNING VDB is refused; deletes resolve to nothing, and the records are gone.
    await expect(client.deleteVdb(vdb.id)).rejects.toMatchObject({ name: ErrorNames.Conflict, field: 'id' });
    await client.updateVdb(vdb.id, { status: 'STOPPED' });
    await expect(client.deleteVdb(vdb.id)).resolves.toBeUndefined();
    await expect(client.deleteSnapshot(snapshot.id)).resolves.toBeUndefined();
    await expect(client.deleteDSource(dsource.id)).resolves.toBeUndefined();
    expect(await client.listVdbs()).toEqual([]);
    expect(await client.listSnapshots()).toEqual([]);
    expect(await client.listDSources()).toEqual([]);
  });

  it('runs timeflows, space, dependents, snapshot exports and environment deletion over HTTP', async () => {
    // Prepare: a dSource under a chosen id with two snapshots, and a VDB of the first one.
    const client = createEngineClient({ url: running.url, token: TOKEN });
    const environment = await client.createEnvironment({ name: 'timeflows', hostId: 'i-0123456789abcdef0' });
    const sourceConfig = await client.createSourceConfig({
      environmentId: environment.id,
      name: 'data',
      path: '/srv/timeflows',
    });
    const dsourceInput = {
      id: 'ds-00000000000000f1',
      name: 'data',
      sourceConfigId: sourceConfig.id,
      stagingEnvironmentId: environment.id,
      parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/client-timeflows' },
    };
    const dsource = await client.createDSource(dsourceInput);
    await writeFile(join((await client.exportDataset(dsource.id, { readOnly: false })).source, 'data.txt'), 'one');
    const first = await client.snapshotDataset(dsource.id, { provenance, metadata: {} });
    const second = await client.snapshotDataset(dsource.id, { provenance, metadata: {} });
    const vdb = await client.createVdb({
      id: 'vdb-00000000000000f2',
      name: 'dev',
      snapshotId: first.id,
      environmentId: environment.id,
      parameters: { mountLocation: '/mnt/client-timeflows-vdb' },
    });

    // Act
    const repeated = await client.createDSource(dsourceInput);
    const refreshed = await client.createTimeflow(vdb.id, { snapshotId: second.id, kind: 'refresh' });
    const timeflows = await client.listTimeflows({ datasetId: vdb.id });
    const everyTimeflow = await client.listTimeflows();
    const dependents = await client.listDependents(first.id);
    const space = await client.getSpace(dsource.id);
    const exported = await client.exportSnapshot(first.id);
    const switched = await client.switchTimeflow(vdb.id, vdb.currentTimeflowId);
    const ofTimeflow = await client.listSnapshots({ datasetId: dsource.id, timeflowId: dsource.currentTimeflowId });
    const refusal = await client.deleteEnvironment(environment.id).then(unexpected, (error: unknown) => error);
    const conflict = await client
      .createDSource({ ...dsourceInput, name: 'other' })
      .then(unexpected, (error: unknown) => error);

    // Assess: the client answers what the engine itself answers.
    const { engine } = running;
    expect(repeated).toEqual(dsource);
    expect(refreshed).toMatchObject({ previousTimeflowId: vdb.currentTimeflowId, timeflow: { kind: 'refresh' } });
    expect(await client.getTimeflow(refreshed.timeflow.id)).toEqual(refreshed.timeflow);
    expect(timeflows).toEqual(await engine.listTimeflows({ datasetId: vdb.id }));
    expect(everyTimeflow).toEqual(await engine.listTimeflows());
    // Listed while the refreshed timeflow was current: the first timeflow, cloned from `first`, was not.
    expect(dependents).toEqual([{ kind: 'timeflow', id: vdb.currentTimeflowId, reason: expect.any(String) }]);
    expect(await client.listDependents(first.id)).toEqual(await engine.listDependents(first.id));
    expect(space).toEqual({ id: dsource.id, totalBytes: 9, exclusiveBytes: 9, sharedBytes: 0, exact: false });
    expect(await readFile(join(exported.source, 'data.txt'), 'utf8')).toBe('one');
    expect(switched).toEqual(await client.getVdb(vdb.id));
    expect(ofTimeflow).toEqual([first, second]);
    expect(refusal).toMatchObject({ name: ErrorNames.DependentsExist, message: expect.stringContaining(vdb.id) });
    expect(conflict).toMatchObject({ name: ErrorNames.Conflict, field: 'id' });
    expect(await client.listSourceConfigs()).toContainEqual(sourceConfig);

    // Act and assess: tearing down, the environment last.
    await expect(client.deleteTimeflow(refreshed.timeflow.id)).resolves.toBeUndefined();
    await client.deleteVdb(vdb.id);
    await expect(client.deleteSourceConfig(sourceConfig.id)).rejects.toMatchObject({
      name: ErrorNames.DependentsExist,
      message: expect.stringContaining(dsource.id),
    });
    await client.deleteDSource(dsource.id);
    expect(await client.listDependents(environment.id)).toEqual([
      { kind: 'sourceConfig', id: sourceConfig.id, reason: expect.stringContaining(sourceConfig.id) },
    ]);
    await expect(client.deleteSourceConfig(sourceConfig.id)).resolves.toBeUndefined();
    expect(await client.listDependents(environment.id)).toEqual([]);
    const spare = await client.createEnvironment({
      name: 'spare',
      hostId: 'mi-0123456789abcdef0',
      scratchPath: '/srv/scratch',
    });
    expect(spare.scratchPath).toBe('/srv/scratch');
    await expect(client.deleteEnvironment(spare.id)).resolves.toBeUndefined();
    await expect(client.getEnvironment(spare.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
  });

  it('takes, refuses and releases leases, and repeats a snapshot by its request token, over HTTP', async () => {
    // Prepare
    const client = createEngineClient({ url: running.url, token: TOKEN });
    const environment = await client.createEnvironment({ name: 'leases', hostId: 'i-89abcdef' });
    const sourceConfig = await client.createSourceConfig({ environmentId: environment.id, name: 'd', path: '/srv/l' });
    const dsource = await client.createDSource({
      name: 'leased',
      sourceConfigId: sourceConfig.id,
      stagingEnvironmentId: environment.id,
      parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/client-leases' },
    });
    const holder = 'arn:aws:states:us-east-1:123456789012:execution:sync:a&b=c?d';

    // Act
    const lease = await client.acquireLease(dsource.id, { holder, ttlSeconds: 120 });
    const busy = await client
      .acquireLease(dsource.id, { holder: 'other', ttlSeconds: 120 })
      .then(unexpected, (error: unknown) => error);
    await client.releaseLease(dsource.id, 'other');
    const stillBusy = await client
      .acquireLease(dsource.id, { holder: 'other', ttlSeconds: 120 })
      .then(unexpected, (error: unknown) => error);
    await client.releaseLease(dsource.id, holder);
    const taken = await client.acquireLease(dsource.id, { holder: 'other', ttlSeconds: 120 });
    const input = { provenance, metadata: {}, requestToken: `${holder}/Snapshot` };
    const first = await client.snapshotDataset(dsource.id, input);
    const again = await client.snapshotDataset(dsource.id, input);

    // Assess
    expect(lease).toEqual({ datasetId: dsource.id, holder, expiresAt: expect.any(String) });
    expect(Date.parse(lease.expiresAt) - Date.now()).toBeGreaterThan(100_000);
    for (const refusal of [busy, stillBusy])
      expect(refusal).toMatchObject({ name: ErrorNames.DatasetBusy, message: expect.stringContaining(holder) });
    expect(taken.holder).toBe('other');
    expect(again).toEqual(first);
    expect(await client.listSnapshots({ datasetId: dsource.id })).toEqual([first]);
  });

  it('sets policies, event sources and snapshot retention over HTTP, with defaults and idempotent creates', async () => {
    // Prepare
    const client = createEngineClient({ url: running.url, token: TOKEN });
    const environment = await client.createEnvironment({ name: 'policies', hostId: 'i-89abcdee' });
    const sourceConfig = await client.createSourceConfig({ environmentId: environment.id, name: 'd', path: '/srv/p' });
    // Typed through the port, whatever EventSource type it names.
    const drops = [{ kind: 's3', bucket: 'client-drops', prefix: 'in/' }] as unknown as NonNullable<
      Parameters<EngineClient['updateDatasetSettings']>[1]['eventSources']
    >;
    const dsourceInput = {
      id: 'ds-00000000000000f5',
      name: 'with policy',
      sourceConfigId: sourceConfig.id,
      stagingEnvironmentId: environment.id,
      parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/client-policies' },
      policy: { schedule: { cron: '15 * * * *', timeZone: 'Europe/Paris' }, retention: { hourly: 48 } },
    };

    // Act
    const dsource = await client.createDSource(dsourceInput);
    const repeated = await client.createDSource({ ...dsourceInput });
    const conflict = await client
      .createDSource({ ...dsourceInput, policy: { retention: { hourly: 48 } } })
      .then(unexpected, (error: unknown) => error);
    const synced = await client.updateDatasetSettings(dsource.id, { eventSources: drops });
    const snapshot = await client.snapshotDataset(dsource.id, { provenance, metadata: {} });
    const vdb = await client.createVdb({
      name: 'dev',
      snapshotId: snapshot.id,
      environmentId: environment.id,
      parameters: { mountLocation: '/mnt/client-policies-vdb' },
    });
    const vdbPatched = await client.updateDatasetSettings(vdb.id, { policy: { retention: { daily: 2 } } });
    const refused = await client
      .updateDatasetSettings(vdb.id, { eventSources: drops })
      .then(unexpected, (error: unknown) => error);
    const retained = await client.updateSnapshot(snapshot.id, {
      retainForever: true,
      expiresAt: '2032-01-01T00:00:00Z',
    });
    const released = await client.updateSnapshot(snapshot.id, { retainForever: false, expiresAt: null });
    const badExpiry = await client
      .updateSnapshot(snapshot.id, { expiresAt: '1 January' })
      .then(unexpected, (error: unknown) => error);

    // Assess
    expect(dsource.policy).toEqual({
      schedule: { cron: '15 * * * *', timeZone: 'Europe/Paris' },
      retention: { hourly: 48, daily: 0, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
    });
    expect(dsource.eventSources).toEqual([]);
    expect(repeated).toEqual(dsource);
    expect(conflict).toMatchObject({ name: ErrorNames.Conflict, field: 'id' });
    expect(synced).toEqual({ ...dsource, eventSources: [{ kind: 's3', bucket: 'client-drops', prefix: 'in/' }] });
    expect(await client.getDSource(dsource.id)).toEqual(synced);
    expect(vdb.policy).toEqual({
      schedule: null,
      retention: { hourly: 24, daily: 7, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
    });
    expect(vdbPatched).toEqual({
      ...vdb,
      policy: { schedule: null, retention: { hourly: 0, daily: 2, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 } },
    });
    expect(refused).toMatchObject({ name: ErrorNames.Validation, field: 'eventSources' });
    expect(retained).toEqual({ ...snapshot, retainForever: true, expiresAt: '2032-01-01T00:00:00.000Z' });
    expect(released).toEqual(snapshot);
    expect(await client.getSnapshot(snapshot.id)).toEqual(snapshot);
    expect(badExpiry).toMatchObject({ name: ErrorNames.Validation, field: 'expiresAt' });
  });

  it('turns error answers into SnapflowErrors with the same name, message, action and field', async () => {
    // Prepare
    const client = createEngineClient({ url: running.url, token: TOKEN });
    const environment = await client.createEnvironment({ name: 'errors', hostId: 'i-0123abcd' });

    // Act
    const failure = await client
      .createVdb({
        name: 'dev',
        snapshotId: 'snap-0000000000000000',
        environmentId: environment.id,
        parameters: { mountLocation: '/mnt/errors' },
      })
      .then(unexpected, (error: unknown) => error);
    const direct = await running.engine
      .createVdb({
        name: 'dev',
        snapshotId: 'snap-0000000000000000',
        environmentId: environment.id,
        parameters: { mountLocation: '/mnt/errors' },
      })
      .then(unexpected, (error: unknown) => error as SnapflowError);

    // Assess
    expect(failure).toBeInstanceOf(SnapflowError);
    expect(failure).toMatchObject({
      name: ErrorNames.NotFound,
      message: direct.message,
      action: direct.action,
      field: 'snapshotId',
    });
    await expect(
      client.createVdb({
        name: 'dev',
        snapshotId: 'snap-0000000000000000',
        environmentId: environment.id,
        parameters: { mountLocation: '/etc' },
      }),
    ).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'virtualSource.mountLocation' });
    await expect(client.getVdb('../environments')).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'id' });
  });

  it('answers UnauthorizedError for a wrong token, never repeating the token', async () => {
    const secret = 'wrong-token-that-must-not-leak';
    const error = await createEngineClient({ url: running.url, token: secret })
      .listVdbs()
      .then(unexpected, (caught: unknown) => caught as SnapflowError);
    expect(error.name).toBe(ErrorNames.Unauthorized);
    expect(JSON.stringify({ ...error.toJSON(), stack: error.stack })).not.toContain(secret);
  });
});

describe('createEngineClient without an engine', () => {
  let server: Server | undefined;

  afterAll(async () => {
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  });

  it('throws EngineUnavailableError, a transient error, when nothing listens', async () => {
    // Prepare: a port that was free a moment ago and has no listener now.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const client = createEngineClient({ url: `http://127.0.0.1:${port}`, token: TOKEN });

    // Act
    const error = await client.listVdbs().then(unexpected, (caught: unknown) => caught as SnapflowError);

    // Assess
    expect(error).toBeInstanceOf(SnapflowError);
    expect(error.name).toBe(ErrorNames.EngineUnavailable);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(TransientErrorNames).toContain(error.name);
    expect(error.message).not.toContain(TOKEN);
  });

  it('throws EngineUnavailableError for a 503 without an engine body, StorageError for other statuses', async () => {
    // Prepare: something that is not the engine, e.g. a proxy.
    server = createServer((request, response) => {
      response.writeHead(request.url === '/vdbs' ? 503 : 500, { 'content-type': 'text/html' });
      response.end('<h1>nope</h1>');
    });
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    const { port } = listening.address() as AddressInfo;
    const client = createEngineClient({ url: `http://127.0.0.1:${port}`, token: TOKEN });

    // Act and assess
    await expect(client.listVdbs()).rejects.toMatchObject({ name: ErrorNames.EngineUnavailable });
    await expect(client.listEnvironments()).rejects.toMatchObject({ name: ErrorNames.Storage });
  });
});
