import { execFile } from 'node:child_process';
import { link, mkdir, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MountEntry } from '../../../lib/adapters/mount-table';
import { ErrorNames } from '../../../lib/core/errors';
import { ID_PATTERN } from '../../../lib/core/field-schemas';
import type { Provenance, Snapshot } from '../../../lib/core/model';
import type { CreateEnvironmentInput } from '../../../lib/core/ports';
import { DEFAULT_RETENTION, DEFAULT_SNAPSHOT_POLICY } from '../../../lib/core/snapshot-policy';
import { DirBackend } from '../../../lib/engine/backends/dir-backend';
import { Engine, type EngineOptions } from '../../../lib/engine/engine';
import { MetadataStore } from '../../../lib/engine/metadata-store';
import { IS_ROOT, makeTempRoot, removeTempRoot } from '../../support/engine-temp-root';

const run = promisify(execFile);

const provenance: Provenance = { trigger: { kind: 'api' }, pluginVersion: '0.1.0' };

/** For promises that must reject: resolving fails the test. */
function unexpected(value: unknown): never {
  throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
}
const linkedSource = { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/staging/data' };

/** An engine over a dir backend and a metadata file under `root`, reconciled as at start-up. */
async function openEngine(root: string, options: Pick<EngineOptions, 'mounts' | 'now'> = {}) {
  const backend = new DirBackend(join(root, 'engine'));
  await backend.open();
  const store = await MetadataStore.open(join(root, 'engine', 'metadata.json'));
  const engine = new Engine({ backend, backendReason: 'dir backend: chosen by the test', store, ...options });
  const report = await engine.reconcile();
  return { engine, backend, report };
}

describe('Engine', () => {
  let root: string;
  let engine: Engine;
  let backend: DirBackend;

  beforeEach(async () => {
    root = await makeTempRoot('engine');
    ({ engine, backend } = await openEngine(root));
  });

  afterEach(async () => {
    await removeTempRoot(root);
  });

  /** A local environment and a source config on it, a dSource staged locally, and two more hosts. */
  async function seed() {
    const local = await engine.createEnvironment({ name: 'local', hostId: 'local' });
    const target = await engine.createEnvironment({ name: 'target', hostId: 'mi-0123456789abcdef0' });
    const remote = await engine.createEnvironment({ name: 'remote', hostId: 'i-0123456789abcdef0' });
    const sourceConfig = await engine.createSourceConfig({ environmentId: local.id, name: 'data', path: '/srv/data' });
    const dsource = await engine.createDSource({
      name: 'data',
      sourceConfigId: sourceConfig.id,
      stagingEnvironmentId: local.id,
      parameters: linkedSource,
    });
    return { local, target, remote, sourceConfig, dsource };
  }

  /** Where a dSource's or VDB's current tree is. */
  function currentTree(dataset: { currentTimeflowId: string }): string {
    return backend.datasetPath(dataset.currentTimeflowId);
  }

  /** A dSource holding one file, snapshotted once. */
  async function seedSnapshot() {
    const seeded = await seed();
    await writeFile(join(currentTree(seeded.dsource), 'data.txt'), 'v1');
    const snapshot = await engine.snapshotDataset(seeded.dsource.id, { provenance, metadata: {} });
    return { ...seeded, snapshot };
  }

  /** A VDB of `snapshot` on `environmentId`, mounted at `/mnt/<name>`. */
  function provision(snapshot: Snapshot, environmentId: string, name = 'dev') {
    return engine.createVdb({
      name,
      snapshotId: snapshot.id,
      environmentId,
      parameters: { mountLocation: `/mnt/${name}` },
    });
  }

  describe('ids', () => {
    it('hands out ids with the kind prefix and 16 hex digits, matching ID_PATTERN', async () => {
      const { local, sourceConfig, dsource, snapshot } = await seedSnapshot();
      const vdb = await engine.createVdb({
        name: 'dev',
        snapshotId: snapshot.id,
        environmentId: local.id,
        parameters: { mountLocation: '/mnt/dev' },
      });
      const ids = [local.id, sourceConfig.id, dsource.id, dsource.currentTimeflowId, snapshot.id, vdb.id];
      expect(ids.map((id) => id.split('-')[0])).toEqual(['env', 'sc', 'ds', 'tf', 'snap', 'vdb']);
      for (const id of ids) expect(id).toMatch(new RegExp(ID_PATTERN));
    });
  });

  describe('createEnvironment', () => {
    it('records the environment, lists it and gets it by id', async () => {
      const created = await engine.createEnvironment({ name: 'web 1', hostId: 'mi-0123456789abcdef0' });
      expect(created).toMatchObject({
        name: 'web 1',
        hostId: 'mi-0123456789abcdef0',
        scratchPath: '/var/tmp/snapflow',
      });
      expect(Date.parse(created.createdAt)).not.toBeNaN();
      expect(await engine.getEnvironment(created.id)).toEqual(created);
      expect(await engine.listEnvironments()).toEqual([created]);
    });

    it.each([
      [{ name: 'x', hostId: 'web-1' }, 'hostId'],
      [{ name: '', hostId: 'local' }, 'name'],
      [{ hostId: 'local' }, 'name'],
      [{ name: 'x', hostId: 'local', region: 'eu' }, 'region'],
      [{ name: 'x', hostId: 'local', scratchPath: 'tmp/snapflow' }, 'scratchPath'],
      [{ name: 'x', hostId: 'local', scratchPath: '/tmp/a b' }, 'scratchPath'],
    ])('refuses %j with ValidationError naming %s', async (input, field) => {
      await expect(engine.createEnvironment(input as { name: string; hostId: string })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field,
        message: expect.stringContaining(field),
      });
    });

    it('keeps a scratch path given', async () => {
      const created = await engine.createEnvironment({ name: 'web', hostId: 'local', scratchPath: '/srv/scratch' });
      expect((await engine.getEnvironment(created.id)).scratchPath).toBe('/srv/scratch');
    });

    it('answers NotFoundError for an unknown id', async () => {
      await expect(engine.getEnvironment('env-0000000000000000')).rejects.toMatchObject({ name: ErrorNames.NotFound });
    });
  });

  describe('createEnvironment for SSH hosts', () => {
    const ssh = { address: '10.0.0.5', user: 'root', identityFile: '/keys/id', knownHostsFile: '/keys/known_hosts' };
    const sshClient = { identityFile: '/home/stage/id', knownHostsFile: '/home/stage/known_hosts' };
    let sshEngine: Engine;

    beforeEach(async () => {
      const store = await MetadataStore.open(join(root, 'engine', 'ssh-metadata.json'));
      sshEngine = new Engine({ backend, backendReason: 'dir backend: chosen by the test', store, sshHosts: true });
    });

    it('records how to reach the host, port 22 by default, and the SSH client files; the same again is a retry', async () => {
      const created = await sshEngine.createEnvironment({ name: 'staging', hostId: 'ssh-staging', ssh, sshClient });
      expect(created).toMatchObject({ hostId: 'ssh-staging', ssh: { ...ssh, port: 22 }, sshClient });
      expect(await sshEngine.getEnvironment(created.id)).toEqual(created);
      expect(await sshEngine.createEnvironment({ name: 'staging', hostId: 'ssh-staging', ssh, sshClient })).toEqual(
        created,
      );
      await expect(
        sshEngine.createEnvironment({ name: 'staging', hostId: 'ssh-staging', ssh: { ...ssh, port: 2222 }, sshClient }),
      ).rejects.toMatchObject({ name: ErrorNames.Conflict, field: 'hostId' });
    });

    it('takes SSH client files on any host, e.g. an SSM instance that pulls from source hosts', async () => {
      const created = await engine.createEnvironment({ name: 'ec2', hostId: 'i-0123456789abcdef0', sshClient });
      expect(created.sshClient).toEqual(sshClient);
    });

    it.each([
      [{ name: 'x', hostId: 'ssh-x' }, 'ssh', /ssh-x names an SSH host but ssh is missing/],
      [{ name: 'x', hostId: 'local', ssh }, 'ssh', /ssh is given, but hostId local is not an SSH host/],
      [{ name: 'x', hostId: 'ssh-x', ssh: { ...ssh, address: '-oProxyCommand=x' } }, 'ssh.address', /address/],
      [{ name: 'x', hostId: 'ssh-x', ssh: { ...ssh, identityFile: '/keys/%d' } }, 'ssh.identityFile', /identityFile/],
      [{ name: 'x', hostId: 'ssh-x', ssh: { ...ssh, port: 70000 } }, 'ssh.port', /port/],
      [{ name: 'x', hostId: 'ssh-x', ssh: { ...ssh, user: 'root;id' } }, 'ssh.user', /user/],
      [
        { name: 'x', hostId: 'local', sshClient: { identityFile: '/id' } },
        'sshClient.knownHostsFile',
        /knownHostsFile/,
      ],
      [{ name: 'x', hostId: 'ssh-X', ssh }, 'hostId', /hostId/],
    ])('refuses %j with ValidationError naming %s', async (input, field, message) => {
      await expect(sshEngine.createEnvironment(input as CreateEnvironmentInput)).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field,
        message: expect.stringMatching(message),
      });
    });

    it('are refused by an engine that does not serve local mode, saying how to register the host instead', async () => {
      await expect(engine.createEnvironment({ name: 'x', hostId: 'ssh-x', ssh })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'hostId',
        message: 'hostId ssh-x names an SSH host, which only local mode reaches',
        action: expect.stringContaining('SSM managed-instance id'),
      });
      expect(await engine.listEnvironments()).toEqual([]);
    });
  });

  describe('deleteEnvironment', () => {
    it('refuses while source configs, staging dSources or VDBs use it, listing each by id', async () => {
      // Prepare
      const { local, target, sourceConfig, dsource, snapshot } = await seedSnapshot();
      const vdb = await provision(snapshot, target.id);

      // Act
      const refusals = await Promise.all(
        [local.id, target.id].map((id) => engine.deleteEnvironment(id).then(unexpected, (error: unknown) => error)),
      );

      // Assess
      expect(await engine.listDependents(local.id)).toEqual([
        { kind: 'sourceConfig', id: sourceConfig.id, reason: expect.stringContaining(sourceConfig.id) },
        { kind: 'dsource', id: dsource.id, reason: expect.stringContaining(dsource.id) },
      ]);
      expect(await engine.listDependents(target.id)).toEqual([
        { kind: 'vdb', id: vdb.id, reason: expect.stringContaining(vdb.id) },
      ]);
      for (const refusal of refusals)
        expect(refusal).toMatchObject({
          name: ErrorNames.DependentsExist,
          action: expect.stringContaining('/dependents/'),
        });
      expect((refusals[0] as Error).message).toMatch(new RegExp(`${sourceConfig.id}.*${dsource.id}`));
      expect((refusals[1] as Error).message).toContain(vdb.id);
      expect(await engine.listEnvironments()).toHaveLength(3);
    });

    it('deletes an environment nothing uses, then answers NotFoundError', async () => {
      const { remote } = await seed();
      expect(await engine.listDependents(remote.id)).toEqual([]);
      await engine.deleteEnvironment(remote.id);
      await expect(engine.getEnvironment(remote.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(engine.deleteEnvironment(remote.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
    });
  });

  describe('createSourceConfig', () => {
    it('records source configs and lists them, oldest first', async () => {
      const { sourceConfig, local } = await seed();
      const other = await engine.createSourceConfig({ environmentId: local.id, name: 'logs', path: '/srv/logs' });
      expect(await engine.listSourceConfigs()).toEqual([sourceConfig, other]);
      expect(await engine.getSourceConfig(other.id)).toEqual(other);
    });

    it('refuses a path that is not a unix path, naming the field', async () => {
      const local = await engine.createEnvironment({ name: 'local', hostId: 'local' });
      await expect(
        engine.createSourceConfig({ environmentId: local.id, name: 'data', path: 'srv/data; rm -rf /' }),
      ).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'path' });
    });

    it('refuses an environment that does not exist with NotFoundError naming environmentId', async () => {
      await expect(
        engine.createSourceConfig({ environmentId: 'env-0000000000000000', name: 'data', path: '/srv/data' }),
      ).rejects.toMatchObject({ name: ErrorNames.NotFound, field: 'environmentId' });
    });
  });

  describe('createDSource', () => {
    it('records the dSource with its first timeflow, whose storage is empty', async () => {
      const { dsource, sourceConfig, local } = await seed();
      expect(dsource).toMatchObject({
        sourceConfigId: sourceConfig.id,
        stagingEnvironmentId: local.id,
        parameters: linkedSource,
      });
      const timeflow = await engine.getTimeflow(dsource.currentTimeflowId);
      expect(timeflow).toEqual({
        id: dsource.currentTimeflowId,
        datasetId: dsource.id,
        kind: 'link',
        createdAt: dsource.createdAt,
        path: backend.datasetPath(dsource.currentTimeflowId),
      });
      expect(await readdir(timeflow.path)).toEqual([]);
      expect(await engine.getDSource(dsource.id)).toEqual(dsource);
      expect(await engine.listDSources()).toEqual([dsource]);
      expect(await engine.listTimeflows({ datasetId: dsource.id })).toEqual([timeflow]);
      expect(await backend.list()).toEqual({ datasets: [timeflow.id], snapshots: [] });
    });

    it('validates parameters against the linked-source schema, naming linkedSource fields', async () => {
      const { sourceConfig, local } = await seed();
      const create = (parameters: Record<string, unknown>) =>
        engine.createDSource({
          name: 'x',
          sourceConfigId: sourceConfig.id,
          stagingEnvironmentId: local.id,
          parameters: parameters as typeof linkedSource,
        });
      await expect(create({ ...linkedSource, username: 'Root User' })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'linkedSource.username',
        message: expect.stringMatching(/^linkedSource\.username /),
      });
      await expect(create({ sourceAddress: 'localhost', username: 'snap' })).rejects.toMatchObject({
        field: 'linkedSource.mountLocation',
        message: 'linkedSource.mountLocation is missing',
      });
      await expect(create({ ...linkedSource, mountLocation: '/etc/data' })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'linkedSource.mountLocation',
        message: expect.stringMatching(/system directory \/etc/),
      });
    });

    it('answers NotFoundError naming sourceConfigId or stagingEnvironmentId', async () => {
      const { sourceConfig, local } = await seed();
      const parameters = { ...linkedSource, mountLocation: '/mnt/other' };
      await expect(
        engine.createDSource({
          name: 'x',
          sourceConfigId: 'sc-0000000000000000',
          stagingEnvironmentId: local.id,
          parameters,
        }),
      ).rejects.toMatchObject({ name: ErrorNames.NotFound, field: 'sourceConfigId' });
      await expect(
        engine.createDSource({
          name: 'x',
          sourceConfigId: sourceConfig.id,
          stagingEnvironmentId: 'env-0000000000000000',
          parameters,
        }),
      ).rejects.toMatchObject({ name: ErrorNames.NotFound, field: 'stagingEnvironmentId' });
    });

    it('refuses a staging mount already used on the same host', async () => {
      const { sourceConfig, local } = await seed();
      await expect(
        engine.createDSource({
          name: 'x',
          sourceConfigId: sourceConfig.id,
          stagingEnvironmentId: local.id,
          parameters: linkedSource,
        }),
      ).rejects.toMatchObject({ name: ErrorNames.Conflict, field: 'linkedSource.mountLocation' });
    });
  });

  describe('snapshotDataset', () => {
    it('takes a point in time of the dSource that later writes do not change', async () => {
      // Prepare
      const { dsource, snapshot } = await seedSnapshot();

      // Act
      await writeFile(join(currentTree(dsource), 'data.txt'), 'v2');

      // Assess
      expect(snapshot).toMatchObject({
        datasetId: dsource.id,
        timeflowId: dsource.currentTimeflowId,
        metadata: {},
        provenance,
      });
      expect(snapshot.path).toBe(backend.snapshotPath(snapshot.id));
      expect(await readFile(join(snapshot.path, 'data.txt'), 'utf8')).toBe('v1');
      expect(await engine.getSnapshot(snapshot.id)).toEqual(snapshot);
    });

    it('lists snapshots, all or by dataset, and refuses an unknown dataset', async () => {
      const { dsource, snapshot, local } = await seedSnapshot();
      const vdb = await engine.createVdb({
        name: 'dev',
        snapshotId: snapshot.id,
        environmentId: local.id,
        parameters: { mountLocation: '/mnt/dev' },
      });
      const ofVdb = await engine.snapshotDataset(vdb.id, { provenance, metadata: {} });
      expect((await engine.listSnapshots()).map((s) => s.id)).toEqual([snapshot.id, ofVdb.id]);
      expect(await engine.listSnapshots({ datasetId: dsource.id })).toEqual([snapshot]);
      expect(await engine.listSnapshots({ datasetId: vdb.id })).toEqual([ofVdb]);
      expect(await engine.listSnapshots({ timeflowId: vdb.currentTimeflowId })).toEqual([ofVdb]);
      expect(await engine.listSnapshots({ datasetId: dsource.id, timeflowId: vdb.currentTimeflowId })).toEqual([]);
      await expect(engine.listSnapshots({ datasetId: 'ds-0000000000000000' })).rejects.toMatchObject({
        name: ErrorNames.NotFound,
        field: 'datasetId',
      });
      await expect(engine.listSnapshots({ timeflowId: 'tf-0000000000000000' })).rejects.toMatchObject({
        name: ErrorNames.NotFound,
        field: 'timeflowId',
      });
    });

    it('refuses a dataset that is neither dSource nor VDB, and a bad provenance', async () => {
      const { dsource } = await seed();
      await expect(engine.snapshotDataset('ds-0000000000000000', { provenance, metadata: {} })).rejects.toMatchObject({
        name: ErrorNames.NotFound,
        field: 'datasetId',
      });
      await expect(
        engine.snapshotDataset(dsource.id, {
          provenance: { ...provenance, trigger: { kind: 'cron' } } as never,
          metadata: {},
        }),
      ).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'provenance.trigger.kind' });
    });
  });

  describe('exportDataset', () => {
    it("answers a bind export of the dataset's current timeflow", async () => {
      const { dsource } = await seed();
      expect(await engine.exportDataset(dsource.id, { readOnly: false })).toEqual({
        datasetId: dsource.id,
        kind: 'bind',
        source: currentTree(dsource),
        readOnly: false,
      });
    });

    it('refuses an unknown dataset with NotFoundError naming datasetId', async () => {
      await expect(engine.exportDataset('vdb-0000000000000000', { readOnly: true })).rejects.toMatchObject({
        name: ErrorNames.NotFound,
        field: 'datasetId',
      });
    });
  });

  describe('exportSnapshot', () => {
    it('answers a read-only bind export of the snapshot, named by the snapshot id', async () => {
      const { snapshot } = await seedSnapshot();
      const exported = await engine.exportSnapshot(snapshot.id);
      expect(exported).toEqual({ datasetId: snapshot.id, kind: 'bind', source: snapshot.path, readOnly: true });
      expect(await readFile(join(exported.source, 'data.txt'), 'utf8')).toBe('v1');
    });

    it('refuses an unknown snapshot, and a snapshot whose storage is gone', async () => {
      const { snapshot } = await seedSnapshot();
      await expect(engine.exportSnapshot('snap-0000000000000000')).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await rm(snapshot.path, { recursive: true });
      await expect(engine.exportSnapshot(snapshot.id)).rejects.toMatchObject({
        name: ErrorNames.Storage,
        message: expect.stringContaining(snapshot.path),
      });
    });
  });

  describe('createVdb', () => {
    it('clones the snapshot into writable storage and records the VDB as PROVISIONING', async () => {
      // Prepare
      const { snapshot, remote } = await seedSnapshot();

      // Act
      const vdb = await engine.createVdb({
        name: 'dev',
        snapshotId: snapshot.id,
        environmentId: remote.id,
        parameters: { mountLocation: '/mnt/dev' },
      });
      const exported = await engine.exportDataset(vdb.id, { readOnly: false });
      await writeFile(join(exported.source, 'data.txt'), 'changed in the VDB');

      // Assess
      expect(vdb).toMatchObject({
        parentDatasetId: snapshot.datasetId,
        parentSnapshotId: snapshot.id,
        environmentId: remote.id,
        status: 'PROVISIONING',
        enabled: true,
      });
      expect(await engine.getTimeflow(vdb.currentTimeflowId)).toEqual({
        id: vdb.currentTimeflowId,
        datasetId: vdb.id,
        kind: 'provision',
        parentSnapshotId: snapshot.id,
        createdAt: vdb.createdAt,
        path: exported.source,
      });
      expect(await readFile(join(snapshot.path, 'data.txt'), 'utf8')).toBe('v1');
      expect(await readFile(join(currentTree(vdb), 'data.txt'), 'utf8')).toBe('changed in the VDB');
      expect(await engine.listVdbs()).toEqual([vdb]);
    });

    it('answers NotFoundError naming snapshotId, with the way to list snapshots', async () => {
      const { local } = await seed();
      await expect(
        engine.createVdb({
          name: 'dev',
          snapshotId: 'snap-0000000000000000',
          environmentId: local.id,
          parameters: { mountLocation: '/mnt/dev' },
        }),
      ).rejects.toMatchObject({
        name: ErrorNames.NotFound,
        field: 'snapshotId',
        action: expect.stringContaining('GET /snapshots'),
      });
    });

    it('validates parameters against the virtual-source schema, naming virtualSource fields', async () => {
      const { snapshot, local } = await seedSnapshot();
      await expect(
        engine.createVdb({
          name: 'dev',
          snapshotId: snapshot.id,
          environmentId: local.id,
          parameters: { mountLocation: 'relative/path' },
        }),
      ).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'virtualSource.mountLocation' });
      await expect(
        engine.createVdb({
          name: 'dev',
          snapshotId: snapshot.id,
          environmentId: local.id,
          parameters: { mountLocation: '/mnt/dev', mode: 'rw' } as never,
        }),
      ).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'virtualSource.mode' });
    });

    it('refuses a mount location another VDB uses on the same host, or inside it', async () => {
      // Prepare
      const { snapshot, local } = await seedSnapshot();
      const first = await engine.createVdb({
        name: 'dev',
        snapshotId: snapshot.id,
        environmentId: local.id,
        parameters: { mountLocation: '/srv/vdbs/dev' },
      });

      // Act
      const attempts = ['/srv/vdbs/dev', '/srv/vdbs/dev/', '/srv/vdbs/dev/inner', '/srv/vdbs'].map((mountLocation) =>
        engine.createVdb({
          name: 'qa',
          snapshotId: snapshot.id,
          environmentId: local.id,
          parameters: { mountLocation },
        }),
      );

      // Assess
      for (const attempt of attempts)
        await expect(attempt).rejects.toMatchObject({
          name: ErrorNames.Conflict,
          field: 'virtualSource.mountLocation',
          message: expect.stringContaining(first.id),
        });
    });

    it('refuses the host path of a dSource staging mount, but allows it on another host', async () => {
      const { snapshot, dsource, local, remote } = await seedSnapshot();
      const parameters = { mountLocation: linkedSource.mountLocation };
      await expect(
        engine.createVdb({ name: 'qa', snapshotId: snapshot.id, environmentId: local.id, parameters }),
      ).rejects.toMatchObject({
        name: ErrorNames.Conflict,
        field: 'virtualSource.mountLocation',
        message: expect.stringContaining(dsource.id),
      });
      await expect(
        engine.createVdb({ name: 'qa', snapshotId: snapshot.id, environmentId: remote.id, parameters }),
      ).resolves.toMatchObject({ environmentId: remote.id });
    });

    it('refuses a mount location inside the engine storage', async () => {
      const { snapshot, local } = await seedSnapshot();
      await expect(
        engine.createVdb({
          name: 'qa',
          snapshotId: snapshot.id,
          environmentId: local.id,
          parameters: { mountLocation: join(backend.root, 'pool', 'x') },
        }),
      ).rejects.toMatchObject({ name: ErrorNames.Conflict, field: 'virtualSource.mountLocation' });
    });

    it('lets exactly one of many concurrent requests for one mount location through', async () => {
      const { snapshot, local } = await seedSnapshot();
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, index) =>
          engine.createVdb({
            name: `vdb ${index}`,
            snapshotId: snapshot.id,
            environmentId: local.id,
            parameters: { mountLocation: '/mnt/contested' },
          }),
        ),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      expect(await engine.listVdbs()).toHaveLength(1);
    });
  });

  describe('updateVdb', () => {
    it('sets status, enabled and source config, and nothing else', async () => {
      const { snapshot, local } = await seedSnapshot();
      const vdb = await engine.createVdb({
        name: 'dev',
        snapshotId: snapshot.id,
        environmentId: local.id,
        parameters: { mountLocation: '/mnt/dev' },
      });
      const sourceConfig = { name: 'VDB mounted at /mnt/dev', path: '/mnt/dev' };
      const updated = await engine.updateVdb(vdb.id, { status: 'RUNNING', sourceConfig });
      expect(updated).toEqual({ ...vdb, status: 'RUNNING', sourceConfig });
      expect(await engine.getVdb(vdb.id)).toEqual(updated);
      const stopped = await engine.updateVdb(vdb.id, { status: 'STOPPED', enabled: false });
      expect(stopped).toEqual({ ...updated, status: 'STOPPED', enabled: false });
      await expect(engine.updateVdb(vdb.id, { status: 'GONE' as never })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'status',
      });
      await expect(
        engine.updateVdb(vdb.id, { currentTimeflowId: 'tf-0000000000000000' } as never),
      ).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'currentTimeflowId',
      });
      await expect(engine.updateVdb('vdb-0000000000000000', { status: 'RUNNING' })).rejects.toMatchObject({
        name: ErrorNames.NotFound,
      });
    });
  });

  describe('deletes', () => {
    it('refuses to delete what VDBs depend on, naming the dependents by id', async () => {
      // Prepare: dSource -> snapshot -> VDB -> snapshot -> child VDB
      const { dsource, snapshot, local } = await seedSnapshot();
      const vdb = await engine.createVdb({
        name: 'dev',
        snapshotId: snapshot.id,
        environmentId: local.id,
        parameters: { mountLocation: '/mnt/dev' },
      });
      const vdbSnapshot = await engine.snapshotDataset(vdb.id, { provenance, metadata: {} });
      const child = await engine.createVdb({
        name: 'child',
        snapshotId: vdbSnapshot.id,
        environmentId: local.id,
        parameters: { mountLocation: '/mnt/child' },
      });

      // Act and assess
      const refused = { name: ErrorNames.DependentsExist };
      await expect(engine.deleteSnapshot(snapshot.id)).rejects.toMatchObject({
        ...refused,
        message: expect.stringContaining(vdb.id),
      });
      await expect(engine.deleteDSource(dsource.id)).rejects.toMatchObject({
        ...refused,
        message: expect.stringContaining(vdb.id),
      });
      await expect(engine.deleteVdb(vdb.id)).rejects.toMatchObject({
        ...refused,
        message: expect.stringContaining(child.id),
      });
      await expect(engine.deleteSnapshot(vdbSnapshot.id)).rejects.toMatchObject({
        ...refused,
        message: expect.stringContaining(child.id),
      });
      expect((await engine.listVdbs()).map((v) => v.id)).toEqual([vdb.id, child.id]);
    });

    it('deletes bottom-up, removing records, their snapshots and all storage', async () => {
      // Prepare
      const { dsource, snapshot, local } = await seedSnapshot();
      const vdb = await engine.createVdb({
        name: 'dev',
        snapshotId: snapshot.id,
        environmentId: local.id,
        parameters: { mountLocation: '/mnt/dev' },
      });
      const vdbSnapshot = await engine.snapshotDataset(vdb.id, { provenance, metadata: {} });

      // Act
      await engine.deleteVdb(vdb.id);
      await engine.deleteDSource(dsource.id);

      // Assess
      await expect(engine.getVdb(vdb.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(engine.getSnapshot(vdbSnapshot.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(engine.getDSource(dsource.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
      expect(await engine.listSnapshots()).toEqual([]);
      expect(await engine.listTimeflows()).toEqual([]);
      expect(await backend.list()).toEqual({ datasets: [], snapshots: [] });
      expect((await engine.health()).inconsistencies).toEqual([]);
    });

    it('deletes a snapshot without clones, and answers NotFoundError when deleting again', async () => {
      const { snapshot, dsource } = await seedSnapshot();
      await engine.deleteSnapshot(snapshot.id);
      expect(await backend.list()).toEqual({ datasets: [dsource.currentTimeflowId], snapshots: [] });
      await expect(engine.deleteSnapshot(snapshot.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(engine.deleteVdb('vdb-0000000000000000')).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(engine.deleteDSource('ds-0000000000000000')).rejects.toMatchObject({ name: ErrorNames.NotFound });
    });
  });

  describe('records', () => {
    it('hands out copies, so a caller cannot change the engine state', async () => {
      const { dsource } = await seed();
      const copy = await engine.getDSource(dsource.id);
      copy.parameters.mountLocation = '/elsewhere';
      expect((await engine.getDSource(dsource.id)).parameters.mountLocation).toBe(linkedSource.mountLocation);
    });

    it('survives a restart: a new engine on the same root loads every record', async () => {
      const { local, dsource, snapshot } = await seedSnapshot();
      const reopened = await openEngine(root);
      expect(await reopened.engine.getEnvironment(local.id)).toEqual(local);
      expect(await reopened.engine.getDSource(dsource.id)).toEqual(dsource);
      expect(await reopened.engine.getSnapshot(snapshot.id)).toEqual(snapshot);
      expect(await reopened.engine.getTimeflow(dsource.currentTimeflowId)).toEqual(
        await engine.getTimeflow(dsource.currentTimeflowId),
      );
      expect(reopened.report).toEqual({ quarantinedTimeflows: [], quarantinedSnapshots: [], inconsistencies: [] });
    });

    it("records snapshots without a path, and answers the storage's path even where an older file holds another", async () => {
      // Prepare
      const { snapshot } = await seedSnapshot();
      const file = join(root, 'engine', 'metadata.json');
      const written = JSON.parse(await readFile(file, 'utf8'));
      const [recorded] = written.snapshots;

      // Act
      await writeFile(file, JSON.stringify({ ...written, snapshots: [{ ...recorded, path: '/moved/away' }] }));
      const reopened = await openEngine(root);

      // Assess
      expect(recorded).not.toHaveProperty('path');
      expect(snapshot.path).toBe(backend.snapshotPath(snapshot.id));
      expect(await reopened.engine.getSnapshot(snapshot.id)).toEqual(snapshot);
      expect(await reopened.engine.updateSnapshot(snapshot.id, { retainForever: true })).toEqual({
        ...snapshot,
        retainForever: true,
      });
    });
  });

  describe('reconcile and health', () => {
    it('sets aside storage that no record refers to, as a crash between the two steps leaves, keeping its data', async () => {
      // Prepare
      const { dsource } = await seed();
      await writeFile(join(await backend.createDataset('tf-00000000000000aa'), 'data.txt'), 'unrecorded');
      await backend.snapshot(dsource.currentTimeflowId, 'snap-00000000000000bb');
      expect((await engine.health()).inconsistencies.map((problem) => problem.kind)).toEqual([
        'orphan-storage',
        'orphan-storage',
      ]);

      // Act
      const reopened = await openEngine(root);
      const again = await openEngine(root);

      // Assess
      expect(reopened.report).toMatchObject({
        quarantinedTimeflows: ['tf-00000000000000aa'],
        quarantinedSnapshots: ['snap-00000000000000bb'],
        inconsistencies: [],
      });
      expect(again.report).toMatchObject({ quarantinedTimeflows: [], quarantinedSnapshots: [] });
      expect(await backend.list()).toEqual({ datasets: [dsource.currentTimeflowId], snapshots: [] });
      const aside = join(backend.root, 'pool', 'datasets', '.orphan-tf-00000000000000aa');
      expect(await readFile(join(aside, 'data.txt'), 'utf8')).toBe('unrecorded');
      const health = await again.engine.health();
      expect(health).toMatchObject({ status: 'ok', inconsistencies: [] });
      expect(health.quarantined).toEqual([
        {
          kind: 'timeflow',
          id: 'tf-00000000000000aa',
          path: aside,
          message: expect.stringContaining(`remove it with: rm -rf '${aside}'`),
        },
        {
          kind: 'snapshot',
          id: 'snap-00000000000000bb',
          path: join(backend.root, 'pool', 'snapshots', '.orphan-snap-00000000000000bb'),
          message: expect.stringMatching(/older metadata file/),
        },
      ]);
    });

    it('destroys nothing when an older metadata file is restored: newer storage is set aside whole', async () => {
      // Prepare: a backup of the metadata, then a dSource and a snapshot made after it.
      const metadata = join(root, 'engine', 'metadata.json');
      const { local, sourceConfig } = await seed();
      const backup = await readFile(metadata, 'utf8');
      const newer = await engine.createDSource({
        name: 'newer',
        sourceConfigId: sourceConfig.id,
        stagingEnvironmentId: local.id,
        parameters: { ...linkedSource, mountLocation: '/mnt/newer' },
      });
      await writeFile(join(currentTree(newer), 'precious.txt'), 'only copy');
      const snapshot = await engine.snapshotDataset(newer.id, { provenance, metadata: {} });

      // Act: the backup is restored and the engine started on it, twice.
      await writeFile(metadata, backup);
      const { report } = await openEngine(root);
      await openEngine(root);

      // Assess
      expect(report).toMatchObject({
        quarantinedTimeflows: [newer.currentTimeflowId],
        quarantinedSnapshots: [snapshot.id],
      });
      const datasets = join(backend.root, 'pool', 'datasets');
      expect(await readFile(join(datasets, `.orphan-${newer.currentTimeflowId}`, 'precious.txt'), 'utf8')).toBe(
        'only copy',
      );
      expect(
        await readFile(join(backend.root, 'pool', 'snapshots', `.orphan-${snapshot.id}`, 'precious.txt'), 'utf8'),
      ).toBe('only copy');
    });

    it('keeps records whose storage is missing and reports them on health', async () => {
      // Prepare
      const { dsource, snapshot } = await seedSnapshot();
      await rm(currentTree(dsource), { recursive: true });

      // Act
      const reopened = await openEngine(root);
      const health = await reopened.engine.health();

      // Assess
      expect(health.status).toBe('degraded');
      expect(health.backend).toEqual({ kind: 'dir', reason: 'dir backend: chosen by the test' });
      expect(health.inconsistencies).toEqual([
        {
          kind: 'missing-storage',
          id: dsource.currentTimeflowId,
          message: expect.stringContaining(currentTree(dsource)),
        },
      ]);
      expect(await reopened.engine.getDSource(dsource.id)).toEqual(dsource);
      await expect(reopened.engine.snapshotDataset(dsource.id, { provenance, metadata: {} })).rejects.toMatchObject({
        name: ErrorNames.Storage,
      });
      await expect(reopened.engine.exportDataset(dsource.id, { readOnly: true })).rejects.toMatchObject({
        name: ErrorNames.Storage,
      });
      expect(await reopened.engine.getSnapshot(snapshot.id)).toEqual(snapshot);
    });

    it('refuses to start when the metadata file is gone but the pool holds data', async () => {
      // Prepare
      await seed();
      await rm(join(root, 'engine', 'metadata.json'));

      // Act
      const reopening = openEngine(root);

      // Assess
      await expect(reopening).rejects.toMatchObject({
        name: ErrorNames.Storage,
        message: expect.stringMatching(/no metadata file/),
      });
      expect((await backend.list()).datasets).toHaveLength(1);
    });

    it('writes an empty metadata file on first start', async () => {
      const fresh = join(root, 'fresh');
      await mkdir(fresh);
      await openEngine(fresh);
      expect(JSON.parse(await readFile(join(fresh, 'engine', 'metadata.json'), 'utf8'))).toMatchObject({
        version: 2,
        timeflows: [],
        vdbs: [],
      });
    });
  });

  describe('client-chosen ids', () => {
    const dsourceId = 'ds-00000000000000d1';
    const vdbId = 'vdb-00000000000000e1';

    it('creates a dSource under the id given, and answers the same record when the create is repeated', async () => {
      // Prepare
      const { sourceConfig, remote } = await seed();
      const input = {
        id: dsourceId,
        name: 'retried',
        sourceConfigId: sourceConfig.id,
        stagingEnvironmentId: remote.id,
        parameters: { ...linkedSource, excludes: ['tmp'] },
      };

      // Act: a first call, a retry, and two more racing each other.
      const first = await engine.createDSource(input);
      const repeats = await Promise.all([
        engine.createDSource({ ...input, parameters: { excludes: ['tmp'], ...linkedSource } }),
        engine.createDSource(input),
        engine.createDSource(input),
      ]);

      // Assess
      expect(first.id).toBe(dsourceId);
      for (const repeat of repeats) expect(repeat).toEqual(first);
      expect((await engine.listDSources()).filter((dsource) => dsource.id === dsourceId)).toHaveLength(1);
      expect(await engine.listTimeflows({ datasetId: dsourceId })).toHaveLength(1);
      expect((await backend.list()).datasets).toHaveLength(2);
    });

    it('refuses the same dSource id with different input, naming id', async () => {
      const { sourceConfig, remote } = await seed();
      const input = {
        id: dsourceId,
        name: 'first',
        sourceConfigId: sourceConfig.id,
        stagingEnvironmentId: remote.id,
        parameters: linkedSource,
      };
      await engine.createDSource(input);
      for (const changed of [{ name: 'second' }, { parameters: { ...linkedSource, username: 'other' } }])
        await expect(engine.createDSource({ ...input, ...changed })).rejects.toMatchObject({
          name: ErrorNames.Conflict,
          field: 'id',
          message: expect.stringContaining(dsourceId),
          action: expect.stringMatching(/choose a new id/),
        });
    });

    it.each([
      ['vdb-00000000000000d1', 'another kind'],
      ['ds-00000000000000D1', 'upper case'],
      ['ds-1', 'too short'],
    ])('refuses the dSource id %s (%s) with ValidationError naming id', async (id) => {
      const { sourceConfig, remote } = await seed();
      await expect(
        engine.createDSource({
          id,
          name: 'x',
          sourceConfigId: sourceConfig.id,
          stagingEnvironmentId: remote.id,
          parameters: linkedSource,
        }),
      ).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'id' });
    });

    it('creates a VDB under the id given, idempotently, also after the VDB was refreshed', async () => {
      // Prepare
      const { snapshot, dsource, local } = await seedSnapshot();
      const input = {
        id: vdbId,
        name: 'dev',
        snapshotId: snapshot.id,
        environmentId: local.id,
        parameters: { mountLocation: '/mnt/dev' },
      };
      const first = await engine.createVdb(input);
      const newer = await engine.snapshotDataset(dsource.id, { provenance, metadata: {} });
      const { vdb: refreshed } = await engine.createTimeflow(vdbId, { snapshotId: newer.id, kind: 'refresh' });

      // Act
      const repeated = await engine.createVdb(input);

      // Assess
      expect(first.id).toBe(vdbId);
      expect(repeated).toEqual(refreshed);
      await expect(engine.createVdb({ ...input, snapshotId: newer.id })).rejects.toMatchObject({
        name: ErrorNames.Conflict,
        field: 'id',
      });
      await expect(engine.createVdb({ ...input, id: 'ds-00000000000000e1' })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'id',
      });
      expect(await engine.listVdbs()).toHaveLength(1);
    });
  });

  describe('timeflows', () => {
    /** A dSource with snapshots `first` (v1) and `second` (v2), and a VDB provisioned from `first` that wrote to it. */
    async function seedVdb() {
      const seeded = await seedSnapshot();
      const vdb = await provision(seeded.snapshot, seeded.local.id);
      await writeFile(join(currentTree(vdb), 'data.txt'), 'written in the VDB');
      await writeFile(join(currentTree(seeded.dsource), 'data.txt'), 'v2');
      const second = await engine.snapshotDataset(seeded.dsource.id, { provenance, metadata: {} });
      return { ...seeded, first: seeded.snapshot, second, vdb };
    }

    it('refreshes a VDB onto a new timeflow cloned from its parent snapshot, keeping the old one', async () => {
      // Prepare
      const { vdb, second } = await seedVdb();

      // Act
      const result = await engine.createTimeflow(vdb.id, { snapshotId: second.id, kind: 'refresh' });

      // Assess
      expect(result.previousTimeflowId).toBe(vdb.currentTimeflowId);
      expect(result.timeflow).toEqual({
        id: expect.stringMatching(/^tf-[0-9a-f]{16}$/),
        datasetId: vdb.id,
        kind: 'refresh',
        parentSnapshotId: second.id,
        createdAt: expect.any(String),
        path: backend.datasetPath(result.timeflow.id),
      });
      expect(result.vdb).toEqual({ ...vdb, currentTimeflowId: result.timeflow.id, parentSnapshotId: second.id });
      expect(await engine.getVdb(vdb.id)).toEqual(result.vdb);
      const exported = await engine.exportDataset(vdb.id, { readOnly: false });
      expect(exported.source).toBe(result.timeflow.path);
      expect(await readFile(join(exported.source, 'data.txt'), 'utf8')).toBe('v2');
      // The earlier timeflow stays, with the VDB's own writes, listed oldest first.
      expect((await engine.listTimeflows({ datasetId: vdb.id })).map((timeflow) => timeflow.id)).toEqual([
        vdb.currentTimeflowId,
        result.timeflow.id,
      ]);
      expect(await readFile(join(currentTree(vdb), 'data.txt'), 'utf8')).toBe('written in the VDB');
    });

    it('rolls a VDB back to one of its own snapshots; new snapshots are of the new timeflow', async () => {
      // Prepare
      const { vdb } = await seedVdb();
      const before = await engine.snapshotDataset(vdb.id, { provenance, metadata: {} });
      await writeFile(join(currentTree(vdb), 'data.txt'), 'a mistake');

      // Act
      const { timeflow, vdb: rolledBack } = await engine.createTimeflow(vdb.id, {
        snapshotId: before.id,
        kind: 'rollback',
      });
      const after = await engine.snapshotDataset(vdb.id, { provenance, metadata: {} });

      // Assess
      expect(timeflow).toMatchObject({ kind: 'rollback', parentSnapshotId: before.id });
      expect(rolledBack.parentSnapshotId).toBe(before.id);
      expect(await readFile(join(timeflow.path, 'data.txt'), 'utf8')).toBe('written in the VDB');
      expect(before.timeflowId).toBe(vdb.currentTimeflowId);
      expect(after.timeflowId).toBe(timeflow.id);
      expect(await engine.listSnapshots({ timeflowId: timeflow.id })).toEqual([after]);
      expect(await engine.listSnapshots({ datasetId: vdb.id })).toEqual([before, after]);
    });

    it("refuses a snapshot that is not the VDB's own for rollback, nor its parent's for refresh, naming snapshotId", async () => {
      // Prepare
      const { vdb, second, dsource } = await seedVdb();
      const own = await engine.snapshotDataset(vdb.id, { provenance, metadata: {} });

      // Act and assess
      await expect(engine.createTimeflow(vdb.id, { snapshotId: second.id, kind: 'rollback' })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'snapshotId',
        message: expect.stringContaining(dsource.id),
        action: expect.stringContaining(`GET /snapshots?datasetId=${vdb.id}`),
      });
      await expect(engine.createTimeflow(vdb.id, { snapshotId: own.id, kind: 'refresh' })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'snapshotId',
        action: expect.stringContaining(`GET /snapshots?datasetId=${dsource.id}`),
      });
      await expect(
        engine.createTimeflow(vdb.id, { snapshotId: 'snap-0000000000000000', kind: 'refresh' }),
      ).rejects.toMatchObject({ name: ErrorNames.NotFound, field: 'snapshotId' });
      await expect(engine.createTimeflow(vdb.id, { snapshotId: own.id, kind: 'link' as never })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'kind',
      });
      await expect(engine.createTimeflow(dsource.id, { snapshotId: second.id, kind: 'refresh' })).rejects.toMatchObject(
        {
          name: ErrorNames.NotFound,
        },
      );
      expect(await engine.listTimeflows({ datasetId: vdb.id })).toHaveLength(1);
      expect((await backend.list()).datasets).toHaveLength(2);
    });

    it('switches a VDB back to an earlier timeflow, and refuses timeflows of other datasets', async () => {
      // Prepare
      const { vdb, second, dsource } = await seedVdb();
      const { timeflow } = await engine.createTimeflow(vdb.id, { snapshotId: second.id, kind: 'refresh' });

      // Act
      const switched = await engine.switchTimeflow(vdb.id, vdb.currentTimeflowId);

      // Assess
      expect(switched).toEqual(vdb);
      expect((await engine.exportDataset(vdb.id, { readOnly: true })).source).toBe(currentTree(vdb));
      expect(await engine.switchTimeflow(vdb.id, timeflow.id)).toMatchObject({
        currentTimeflowId: timeflow.id,
        parentSnapshotId: second.id,
      });
      await expect(engine.switchTimeflow(vdb.id, dsource.currentTimeflowId)).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'timeflowId',
        action: expect.stringContaining(`GET /timeflows?datasetId=${vdb.id}`),
      });
      await expect(engine.switchTimeflow(vdb.id, 'tf-0000000000000000')).rejects.toMatchObject({
        name: ErrorNames.NotFound,
        field: 'timeflowId',
      });
      await expect(engine.switchTimeflow(vdb.id, 'nope')).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'timeflowId',
      });
    });

    it('refuses to delete a current timeflow with ConflictError saying how to free it', async () => {
      const { vdb, dsource } = await seedVdb();
      await expect(engine.deleteTimeflow(vdb.currentTimeflowId)).rejects.toMatchObject({
        name: ErrorNames.Conflict,
        action: expect.stringContaining(`POST /vdbs/${vdb.id}/switch-timeflow`),
      });
      await expect(engine.deleteTimeflow(dsource.currentTimeflowId)).rejects.toMatchObject({
        name: ErrorNames.Conflict,
        action: expect.stringContaining(`DELETE /dsources/${dsource.id}`),
      });
      expect(await engine.listDependents(vdb.currentTimeflowId)).toEqual([
        { kind: 'vdb', id: vdb.id, reason: expect.stringMatching(/current timeflow/) },
      ]);
    });

    it('deletes an old timeflow with its snapshots and storage once nothing was cloned from them', async () => {
      // Prepare: the old timeflow has a snapshot, and a second VDB was provisioned from it.
      const { vdb, second, local } = await seedVdb();
      const old = vdb.currentTimeflowId;
      const oldSnapshot = await engine.snapshotDataset(vdb.id, { provenance, metadata: {} });
      const child = await provision(oldSnapshot, local.id, 'child');
      await engine.createTimeflow(vdb.id, { snapshotId: second.id, kind: 'refresh' });

      // Act
      const refusal = await engine.deleteTimeflow(old).then(unexpected, (error: unknown) => error as Error);
      await engine.deleteVdb(child.id);
      await engine.deleteTimeflow(old);

      // Assess
      expect(refusal).toMatchObject({ name: ErrorNames.DependentsExist, message: expect.stringContaining(child.id) });
      await expect(engine.getTimeflow(old)).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(engine.getSnapshot(oldSnapshot.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
      const storage = await backend.list();
      expect(storage.datasets).not.toContain(old);
      expect(storage.snapshots).not.toContain(oldSnapshot.id);
      expect((await engine.health()).inconsistencies).toEqual([]);
      await expect(engine.deleteTimeflow(old)).rejects.toMatchObject({ name: ErrorNames.NotFound });
    });

    it('keeps a timeflow a rollback was cloned from, but deletes it with the VDB', async () => {
      // Prepare: roll back to a snapshot of the first timeflow, so the second depends on the first.
      const { vdb, dsource } = await seedVdb();
      const own = await engine.snapshotDataset(vdb.id, { provenance, metadata: {} });
      const { timeflow } = await engine.createTimeflow(vdb.id, { snapshotId: own.id, kind: 'rollback' });

      // Act
      const refusal = await engine.deleteTimeflow(vdb.currentTimeflowId).then(unexpected, (error: unknown) => error);
      await engine.deleteVdb(vdb.id);

      // Assess
      expect(refusal).toMatchObject({
        name: ErrorNames.DependentsExist,
        message: expect.stringContaining(timeflow.id),
      });
      expect(await engine.listTimeflows()).toEqual([await engine.getTimeflow(dsource.currentTimeflowId)]);
      expect((await backend.list()).datasets).toEqual([dsource.currentTimeflowId]);
    });
  });

  describe('listDependents', () => {
    it('lists what blocks each deletion, exactly as the refusal says, and nothing once it is gone', async () => {
      // Prepare: dSource -> snapshot -> VDB (refreshed, so its first timeflow is old) -> snapshot -> child VDB
      const { dsource, snapshot, local } = await seedSnapshot();
      const vdb = await provision(snapshot, local.id);
      const vdbSnapshot = await engine.snapshotDataset(vdb.id, { provenance, metadata: {} });
      const child = await provision(vdbSnapshot, local.id, 'child');
      const { timeflow } = await engine.createTimeflow(vdb.id, { snapshotId: snapshot.id, kind: 'refresh' });
      const deletions: [string, () => Promise<void>][] = [
        [dsource.id, () => engine.deleteDSource(dsource.id)],
        [snapshot.id, () => engine.deleteSnapshot(snapshot.id)],
        [vdb.id, () => engine.deleteVdb(vdb.id)],
        [vdbSnapshot.id, () => engine.deleteSnapshot(vdbSnapshot.id)],
        [vdb.currentTimeflowId, () => engine.deleteTimeflow(vdb.currentTimeflowId)],
      ];

      // Act
      const listed = await Promise.all(deletions.map(([id]) => engine.listDependents(id)));
      const refused = await Promise.all(deletions.map(([, remove]) => remove().then(unexpected, (error) => error)));

      // Assess
      const currentOf = (id: string) => ({ kind: 'vdb', id, reason: expect.any(String) });
      // Both of the VDB's timeflows came from the dSource's snapshot: the old one is listed as itself.
      const fromSnapshot = [
        {
          kind: 'timeflow',
          id: vdb.currentTimeflowId,
          reason: `timeflow ${vdb.currentTimeflowId} of VDB ${vdb.id} was cloned from snapshot ${snapshot.id} (provision)`,
        },
        {
          kind: 'vdb',
          id: vdb.id,
          reason: `VDB ${vdb.id} was refreshed from snapshot ${snapshot.id} (its current timeflow ${timeflow.id})`,
        },
      ];
      expect(listed).toEqual([
        fromSnapshot,
        fromSnapshot,
        [currentOf(child.id)],
        [currentOf(child.id)],
        [currentOf(child.id)],
      ]);
      expect(listed[2]?.[0]?.reason).toBe(
        `VDB ${child.id} was provisioned from snapshot ${vdbSnapshot.id} (its current timeflow ${child.currentTimeflowId})`,
      );
      refused.forEach((error, index) => {
        expect(error).toMatchObject({ name: ErrorNames.DependentsExist });
        for (const dependent of listed[index] ?? []) expect((error as Error).message).toContain(dependent.reason);
      });
      await engine.deleteVdb(child.id);
      expect(await engine.listDependents(vdbSnapshot.id)).toEqual([]);
      expect(await engine.listDependents(child.id).catch((error: unknown) => error)).toMatchObject({
        name: ErrorNames.NotFound,
        field: 'id',
      });
    });
  });

  describe('getSpace', () => {
    it('sums file sizes on the dir backend, counting hard links once, and says it is not exact', async () => {
      // Prepare: 1000 bytes and a 500-byte file with two names, snapshotted, then 2000 more bytes.
      const { dsource } = await seed();
      const tree = currentTree(dsource);
      await writeFile(join(tree, 'a.bin'), Buffer.alloc(1000));
      await writeFile(join(tree, 'b.bin'), Buffer.alloc(500));
      await link(join(tree, 'b.bin'), join(tree, 'b-again.bin'));
      await mkdir(join(tree, 'sub'));
      await symlink('a.bin', join(tree, 'sub', 'link'));
      const snapshot = await engine.snapshotDataset(dsource.id, { provenance, metadata: {} });
      await writeFile(join(tree, 'c.bin'), Buffer.alloc(2000));

      // Act
      const [ofSnapshot, ofTimeflow, ofDSource] = await Promise.all(
        [snapshot.id, dsource.currentTimeflowId, dsource.id].map((id) => engine.getSpace(id)),
      );

      // Assess
      expect(ofSnapshot).toEqual({
        id: snapshot.id,
        totalBytes: 1500,
        exclusiveBytes: 1500,
        sharedBytes: 0,
        exact: false,
      });
      expect(ofTimeflow).toEqual({
        id: dsource.currentTimeflowId,
        totalBytes: 5000,
        exclusiveBytes: 5000,
        sharedBytes: 0,
        exact: false,
      });
      expect(ofDSource).toEqual({ ...ofTimeflow, id: dsource.id });
    });

    it('refuses an environment and unknown ids, and reports storage gone astray', async () => {
      const { local, dsource } = await seed();
      await expect(engine.getSpace(local.id)).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'id' });
      await expect(engine.getSpace('snap-0000000000000000')).rejects.toMatchObject({
        name: ErrorNames.NotFound,
        field: 'id',
      });
      await rm(currentTree(dsource), { recursive: true });
      await expect(engine.getSpace(dsource.id)).rejects.toMatchObject({ name: ErrorNames.Storage });
    });
  });

  describe('createEnvironment for a host already registered', () => {
    it('answers the same environment for the same registration, and refuses another naming hostId', async () => {
      // Prepare
      const first = await engine.createEnvironment({ name: 'build', hostId: 'local' });

      // Act
      const again = await engine.createEnvironment({
        name: 'build',
        hostId: 'local',
        scratchPath: '/var/tmp/snapflow',
      });
      const refusals = await Promise.all(
        [
          { name: 'other', hostId: 'local' },
          { name: 'build', hostId: 'local', scratchPath: '/srv/scratch' },
        ].map((input) => engine.createEnvironment(input).then(unexpected, (error: unknown) => error)),
      );

      // Assess
      expect(again).toEqual(first);
      for (const refusal of refusals)
        expect(refusal).toMatchObject({
          name: ErrorNames.Conflict,
          field: 'hostId',
          message: expect.stringMatching(new RegExp(`hostId local .*${first.id}.*"build"`)),
          action: expect.stringContaining(`Use environment ${first.id}`),
        });
      expect(await engine.listEnvironments()).toEqual([first]);
      // Once forgotten, the host can be registered anew.
      await engine.deleteEnvironment(first.id);
      expect(await engine.createEnvironment({ name: 'other', hostId: 'local' })).toMatchObject({ name: 'other' });
    });
  });

  describe('deleteSourceConfig', () => {
    it('refuses while a dSource was linked from it, listing it; deletes it once nothing uses it', async () => {
      // Prepare
      const { local, sourceConfig, dsource } = await seed();

      // Act
      const refusal = await engine.deleteSourceConfig(sourceConfig.id).then(unexpected, (error: unknown) => error);
      const dependents = await engine.listDependents(sourceConfig.id);
      await engine.deleteDSource(dsource.id);
      await engine.deleteSourceConfig(sourceConfig.id);

      // Assess
      expect(refusal).toMatchObject({
        name: ErrorNames.DependentsExist,
        message: expect.stringContaining(dsource.id),
        action: expect.stringContaining(`/dependents/${sourceConfig.id}`),
      });
      expect(dependents).toEqual([
        { kind: 'dsource', id: dsource.id, reason: expect.stringContaining(sourceConfig.id) },
      ]);
      await expect(engine.getSourceConfig(sourceConfig.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(engine.deleteSourceConfig(sourceConfig.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(engine.getSpace(local.id)).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'id' });
      // With its source config gone, the environment can go too.
      await engine.deleteEnvironment(local.id);
      expect((await engine.listEnvironments()).map((environment) => environment.id)).not.toContain(local.id);
    });
  });

  describe('snapshotDataset with a request token', () => {
    const requestToken = 'arn:aws:states:us-east-1:123456789012:execution:sync:run-1/SnapshotDataset';

    it('answers the snapshot the first call made when the call is repeated, also after a restart', async () => {
      // Prepare
      const { dsource } = await seed();
      const input = { provenance, metadata: {}, requestToken };

      // Act
      const first = await engine.snapshotDataset(dsource.id, input);
      const repeats = await Promise.all([
        engine.snapshotDataset(dsource.id, input),
        engine.snapshotDataset(dsource.id, { ...input, provenance: { ...provenance, durationMs: 7 } }),
      ]);
      const reopened = await openEngine(root);
      const afterRestart = await reopened.engine.snapshotDataset(dsource.id, input);
      const other = await reopened.engine.snapshotDataset(dsource.id, { ...input, requestToken: 'another run' });

      // Assess
      for (const repeat of [...repeats, afterRestart]) expect(repeat).toEqual(first);
      expect(other.id).not.toBe(first.id);
      expect(await reopened.engine.listSnapshots({ datasetId: dsource.id })).toEqual([first, other]);
      expect((await backend.list()).snapshots.sort()).toEqual([first.id, other.id].sort());
      // The token is the caller's business: no answer shows it.
      for (const answered of [first, await reopened.engine.getSnapshot(first.id)])
        expect(answered).not.toHaveProperty('requestToken');
    });

    it('refuses the token of a snapshot of another dataset, and a malformed token, naming requestToken', async () => {
      const { dsource, snapshot, local } = await seedSnapshot();
      const vdb = await provision(snapshot, local.id);
      const mine = await engine.snapshotDataset(dsource.id, { provenance, metadata: {}, requestToken });
      await expect(engine.snapshotDataset(vdb.id, { provenance, metadata: {}, requestToken })).rejects.toMatchObject({
        name: ErrorNames.Conflict,
        field: 'requestToken',
        message: expect.stringContaining(mine.id),
      });
      for (const bad of ['', 'line\nbreak', 'x'.repeat(1025)])
        await expect(
          engine.snapshotDataset(dsource.id, { provenance, metadata: {}, requestToken: bad }),
        ).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'requestToken' });
      expect(await engine.listSnapshots({ datasetId: vdb.id })).toEqual([]);
    });
  });

  describe('leases', () => {
    let clock: number;

    beforeEach(async () => {
      clock = Date.parse('2026-11-21T10:00:00.000Z');
      ({ engine, backend } = await openEngine(root, { now: () => new Date(clock) }));
    });

    it('gives a dataset to one holder at a time, renews it for that holder, and frees it on release', async () => {
      // Prepare
      const { dsource } = await seed();

      // Act and assess: run-a takes it; run-b is refused, naming run-a and the expiry.
      expect(await engine.acquireLease(dsource.id, { holder: 'run-a', ttlSeconds: 60 })).toEqual({
        datasetId: dsource.id,
        holder: 'run-a',
        expiresAt: '2026-11-21T10:01:00.000Z',
      });
      const busy = await engine
        .acquireLease(dsource.id, { holder: 'run-b', ttlSeconds: 60 })
        .then(unexpected, (error: unknown) => error);
      expect(busy).toMatchObject({
        name: ErrorNames.DatasetBusy,
        message: `dataset ${dsource.id} is busy: run-a holds its lease until 2026-11-21T10:01:00.000Z`,
        action: expect.stringMatching(/^Wait for run-a to finish.*2026-11-21T10:01:00\.000Z.*retry later\.$/),
      });

      // Renewal by the holder moves the expiry; a release by another leaves the lease alone.
      clock += 30_000;
      expect(await engine.acquireLease(dsource.id, { holder: 'run-a', ttlSeconds: 60 })).toMatchObject({
        expiresAt: '2026-11-21T10:01:30.000Z',
      });
      await engine.releaseLease(dsource.id, 'run-b');
      await expect(engine.acquireLease(dsource.id, { holder: 'run-b', ttlSeconds: 60 })).rejects.toMatchObject({
        name: ErrorNames.DatasetBusy,
      });

      // Released by its holder, it is free.
      await engine.releaseLease(dsource.id, 'run-a');
      await engine.releaseLease(dsource.id, 'run-a');
      expect(await engine.acquireLease(dsource.id, { holder: 'run-b', ttlSeconds: 60 })).toMatchObject({
        holder: 'run-b',
      });
    });

    it('frees an expired lease, keeps leases across a restart, and drops them with their dataset', async () => {
      // Prepare
      const { dsource, local, sourceConfig } = await seed();
      const other = await engine.createDSource({
        name: 'other',
        sourceConfigId: sourceConfig.id,
        stagingEnvironmentId: local.id,
        parameters: { ...linkedSource, mountLocation: '/mnt/other' },
      });
      await engine.acquireLease(dsource.id, { holder: 'run-a', ttlSeconds: 10 });
      await engine.acquireLease(other.id, { holder: 'run-a', ttlSeconds: 3600 });

      // Act and assess: past its expiry the lease is free; the other dataset's is not.
      clock += 10_000;
      expect(await engine.acquireLease(dsource.id, { holder: 'run-b', ttlSeconds: 600 })).toMatchObject({
        holder: 'run-b',
      });
      const reopened = (await openEngine(root, { now: () => new Date(clock) })).engine;
      for (const [datasetId, holder] of [
        [dsource.id, 'run-b'],
        [other.id, 'run-a'],
      ] as const)
        await expect(reopened.acquireLease(datasetId, { holder: 'run-c', ttlSeconds: 60 })).rejects.toMatchObject({
          name: ErrorNames.DatasetBusy,
          message: expect.stringContaining(holder),
        });

      // Deleting the dataset drops its lease; releasing it afterwards is harmless.
      await reopened.deleteDSource(dsource.id);
      await reopened.releaseLease(dsource.id, 'run-b');
      await expect(reopened.acquireLease(dsource.id, { holder: 'run-b', ttlSeconds: 60 })).rejects.toMatchObject({
        name: ErrorNames.NotFound,
        field: 'datasetId',
      });
      const stored = JSON.parse(await readFile(join(root, 'engine', 'metadata.json'), 'utf8'));
      expect(stored.leases).toEqual([{ datasetId: other.id, holder: 'run-a', expiresAt: '2026-11-21T11:00:00.000Z' }]);
    });

    it('refuses a bad holder or ttlSeconds, naming the field', async () => {
      const { dsource } = await seed();
      for (const [input, field] of [
        [{ holder: '', ttlSeconds: 60 }, 'holder'],
        [{ holder: 'run\n', ttlSeconds: 60 }, 'holder'],
        [{ holder: 'run', ttlSeconds: 0 }, 'ttlSeconds'],
        [{ holder: 'run', ttlSeconds: 1.5 }, 'ttlSeconds'],
        [{ holder: 'run', ttlSeconds: 8 * 24 * 3600 }, 'ttlSeconds'],
      ] as const)
        await expect(engine.acquireLease(dsource.id, input)).rejects.toMatchObject({
          name: ErrorNames.Validation,
          field,
        });
      await expect(engine.releaseLease(dsource.id, '')).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'holder',
      });
    });
  });

  describe('deletes of VDBs in use', () => {
    it('refuses a RUNNING VDB, saying to stop it or use the delete-vdb workflow; deletes it once STOPPED', async () => {
      // Prepare
      const { snapshot, local } = await seedSnapshot();
      const vdb = await provision(snapshot, local.id);
      await engine.updateVdb(vdb.id, { status: 'RUNNING' });

      // Act
      const refusal = await engine.deleteVdb(vdb.id).then(unexpected, (error: unknown) => error);
      await engine.updateVdb(vdb.id, { status: 'STOPPED' });
      await engine.deleteVdb(vdb.id);

      // Assess
      expect(refusal).toMatchObject({
        name: ErrorNames.Conflict,
        message: expect.stringContaining(`VDB ${vdb.id} is RUNNING: it is mounted at /mnt/dev`),
        action: expect.stringMatching(/stop.*delete-vdb workflow/i),
      });
      await expect(engine.getVdb(vdb.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
    });

    it('refuses to delete storage that is mounted anywhere, naming the mount point, and deletes it once unmounted', async () => {
      // Prepare: the pool as a filesystem of its own, as the btrfs backend has it, and a VDB refreshed once.
      let table: MountEntry[] = [];
      ({ engine, backend } = await openEngine(root, { mounts: async () => table }));
      const { dsource, snapshot, local } = await seedSnapshot();
      const vdb = await provision(snapshot, local.id);
      const vdbSnapshot = await engine.snapshotDataset(vdb.id, { provenance, metadata: {} });
      const second = await engine.snapshotDataset(dsource.id, { provenance, metadata: {} });
      const { vdb: refreshed } = await engine.createTimeflow(vdb.id, { snapshotId: second.id, kind: 'refresh' });
      const pool = await realpath(join(backend.root, 'pool'));
      const poolMount = { device: '0:99', root: '/', mountPoint: pool, fsType: 'btrfs', source: '/dev/loop9' };
      const bind = (root: string, mountPoint: string) => ({ ...poolMount, root, mountPoint });
      const refusals: [string, () => Promise<void>, MountEntry[], string][] = [
        // A host's bind mount of the VDB's current timeflow: its mount root is the subvolume's path.
        [
          'VDB',
          () => engine.deleteVdb(vdb.id),
          [bind(`/datasets/${refreshed.currentTimeflowId}`, '/mnt/dev')],
          '/mnt/dev',
        ],
        // Something mounted inside the VDB's tree.
        [
          'VDB',
          () => engine.deleteVdb(vdb.id),
          [{ ...poolMount, device: '0:5', mountPoint: `${pool}/datasets/${refreshed.currentTimeflowId}/cache` }],
          `${pool}/datasets/${refreshed.currentTimeflowId}/cache`,
        ],
        // The old timeflow, still mounted somewhere.
        [
          'timeflow',
          () => engine.deleteTimeflow(vdb.currentTimeflowId),
          [bind(`/datasets/${vdb.currentTimeflowId}/sub`, '/srv/old')],
          '/srv/old',
        ],
        // A snapshot exported read-only (V2P) into a host's scratch path.
        [
          'snapshot',
          () => engine.deleteSnapshot(vdbSnapshot.id),
          [bind(`/snapshots/${vdbSnapshot.id}`, '/var/tmp/snapflow/export-1')],
          '/var/tmp/snapflow/export-1',
        ],
      ];

      // Act and assess
      for (const [label, remove, mounts, mountPoint] of refusals) {
        table = [poolMount, ...mounts];
        await expect(remove(), label).rejects.toMatchObject({
          name: ErrorNames.Conflict,
          message: expect.stringContaining(`is mounted at ${mountPoint}`),
          action: expect.stringContaining(`Unmount ${mountPoint}`),
        });
      }
      // Unrelated mounts of the same filesystem, and of names that merely start alike, block nothing.
      table = [poolMount, bind(`/datasets/${refreshed.currentTimeflowId}x`, '/mnt/x'), bind('/snapshots', '/mnt/all')];
      expect((await engine.listTimeflows({ datasetId: vdb.id })).length).toBe(2);
      await engine.deleteVdb(vdb.id);
      table = [poolMount, bind(`/datasets/${dsource.currentTimeflowId}`, '/mnt/staging/data')];
      await expect(engine.deleteDSource(dsource.id)).rejects.toMatchObject({
        name: ErrorNames.Conflict,
        message: expect.stringContaining('/mnt/staging/data'),
      });
      expect(await engine.getDSource(dsource.id)).toEqual(dsource);
      table = [poolMount];
      await engine.deleteDSource(dsource.id);
      expect(await backend.list()).toEqual({ datasets: [], snapshots: [] });
    });

    it.runIf(IS_ROOT)(
      'refuses to delete a VDB whose storage is really bind-mounted, reading /proc/self/mountinfo',
      async () => {
        // Prepare
        const { snapshot, local } = await seedSnapshot();
        const vdb = await provision(snapshot, local.id);
        const mountPoint = join(root, 'mnt');
        await mkdir(mountPoint);
        await run('mount', ['--bind', currentTree(vdb), mountPoint]);
        try {
          // Act and assess
          await expect(engine.deleteVdb(vdb.id)).rejects.toMatchObject({
            name: ErrorNames.Conflict,
            message: expect.stringContaining(`is mounted at ${await realpath(mountPoint)}`),
          });
          expect(await readFile(join(mountPoint, 'data.txt'), 'utf8')).toBe('v1');
        } finally {
          await run('umount', [mountPoint]);
        }
        await engine.deleteVdb(vdb.id);
        await expect(engine.getVdb(vdb.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
      },
    );
  });

  describe('exports and deletes racing', () => {
    it('answers an export asked after a delete as NotFoundError, never a path to deleted storage', async () => {
      const { dsource, snapshot } = await seedSnapshot();
      const deleting = engine.deleteDSource(dsource.id);
      const exports = [engine.exportDataset(dsource.id, { readOnly: false }), engine.exportSnapshot(snapshot.id)];
      await deleting;
      for (const exported of exports) await expect(exported).rejects.toMatchObject({ name: ErrorNames.NotFound });
    });
  });

  describe('snapshot policies and event sources', () => {
    const dsourceId = 'ds-00000000000000c1';
    const vdbId = 'vdb-00000000000000c2';
    const nightly = { schedule: { cron: ' 30 2 * * * ', timeZone: 'Europe/Berlin' }, retention: { daily: 14 } };
    const nightlyResolved = {
      schedule: { cron: '30 2 * * *', timeZone: 'Europe/Berlin' },
      retention: { hourly: 0, daily: 14, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
    };
    const drops = { kind: 's3' as const, bucket: 'app-drops', prefix: 'incoming/' };

    /** A create of a dSource on the seeded source config, under `dsourceId`. */
    async function dsourceInput() {
      const { sourceConfig, remote } = await seed();
      return {
        id: dsourceId,
        name: 'with policy',
        sourceConfigId: sourceConfig.id,
        stagingEnvironmentId: remote.id,
        parameters: { ...linkedSource, mountLocation: '/mnt/policy' },
      };
    }

    it('gives a dSource the default policy and no event sources, and a VDB no schedule and the default retention', async () => {
      // Act
      const { dsource, snapshot, local } = await seedSnapshot();
      const vdb = await provision(snapshot, local.id);

      // Assess
      expect(DEFAULT_SNAPSHOT_POLICY.schedule).toBeNull();
      expect(dsource.policy).toEqual({ schedule: null, retention: { ...DEFAULT_RETENTION } });
      expect(dsource.eventSources).toEqual([]);
      expect(vdb.policy).toEqual({ schedule: null, retention: { ...DEFAULT_RETENTION } });
      expect(snapshot).not.toHaveProperty('expiresAt');
      expect(snapshot).not.toHaveProperty('retainForever');
    });

    it('stores the resolved policy and the event sources given, across a restart', async () => {
      // Prepare
      const input = await dsourceInput();

      // Act
      const dsource = await engine.createDSource({ ...input, policy: nightly, eventSources: [drops] });
      const snapshot = await engine.snapshotDataset(dsource.id, { provenance, metadata: {} });
      const vdb = await engine.createVdb({
        name: 'hourly',
        snapshotId: snapshot.id,
        environmentId: input.stagingEnvironmentId,
        parameters: { mountLocation: '/mnt/hourly' },
        policy: { schedule: { cron: '0 * * * *', timeZone: 'UTC' }, retention: { hourly: 6, keepAtLeast: 3 } },
      });
      const restarted = (await openEngine(root)).engine;

      // Assess
      expect(dsource).toMatchObject({ policy: nightlyResolved, eventSources: [drops] });
      expect(vdb.policy).toEqual({
        schedule: { cron: '0 * * * *', timeZone: 'UTC' },
        retention: { hourly: 6, daily: 0, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 3 },
      });
      expect(await restarted.getDSource(dsource.id)).toEqual(dsource);
      expect(await restarted.getVdb(vdb.id)).toEqual(vdb);
    });

    it.each([
      [{ policy: { schedule: { cron: '61 * * * *', timeZone: 'UTC' } } }, 'policy.schedule.cron'],
      [{ policy: { schedule: { cron: '0 2 * * *', timeZone: 'Mars/Olympus' } } }, 'policy.schedule.timeZone'],
      [{ policy: { schedule: { cron: '0 2 * * *' } } }, 'policy.schedule.timeZone'],
      [{ policy: { retention: {} } }, 'policy.retention'],
      [{ policy: { retention: { hourly: -1 } } }, 'policy.retention.hourly'],
      [{ policy: { retention: { keepAtLeast: 0 } } }, 'policy.retention.keepAtLeast'],
      [{ policy: { retention: { daily: 7 }, keep: 'all' } }, 'policy.keep'],
      [{ policy: 'nightly' }, 'policy'],
      [{ eventSources: [{ ...drops, bucket: 'Not_A_Bucket' }] }, 'eventSources.0.bucket'],
      [{ eventSources: [drops, { ...drops, kind: 'sqs' }] }, 'eventSources.1.kind'],
      [{ eventSources: [{ kind: 's3', bucket: 'app-drops' }] }, 'eventSources.0.prefix'],
      [{ eventSources: [{ ...drops, region: 'eu-west-1' }] }, 'eventSources.0.region'],
      [{ eventSources: [drops, { ...drops }] }, 'eventSources.1'],
      [{ eventSources: drops }, 'eventSources'],
      [
        { eventSources: Array.from({ length: 17 }, (_, index) => ({ ...drops, prefix: `p${index}/` })) },
        'eventSources',
      ],
    ])('refuses a dSource with %j, with ValidationError naming %s', async (settings, field) => {
      const input = await dsourceInput();
      await expect(engine.createDSource({ ...input, ...(settings as object) })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field,
        message: expect.stringContaining(field),
      });
      expect(await engine.listDSources()).toHaveLength(1);
    });

    it('refuses a VDB with a bad policy, naming the field', async () => {
      const { snapshot, local } = await seedSnapshot();
      await expect(
        engine.createVdb({
          name: 'dev',
          snapshotId: snapshot.id,
          environmentId: local.id,
          parameters: { mountLocation: '/mnt/dev' },
          policy: { schedule: { cron: 'every hour', timeZone: 'UTC' } },
        }),
      ).rejects.toMatchObject({ name: ErrorNames.Validation, field: 'policy.schedule.cron' });
      expect(await engine.listVdbs()).toEqual([]);
    });

    it('repeats a create with the same resolved policy and event sources, and refuses other ones with ConflictError', async () => {
      // Prepare
      const input = await dsourceInput();
      const first = await engine.createDSource({ ...input, policy: nightly, eventSources: [drops] });
      const other = {
        ...input,
        id: 'ds-00000000000000c3',
        name: 'defaults',
        parameters: { ...input.parameters, mountLocation: '/mnt/policy-defaults' },
      };
      const defaulted = await engine.createDSource(other);

      // Act
      const repeats = [
        await engine.createDSource({ ...input, policy: nightlyResolved, eventSources: [drops] }),
        await engine.createDSource({
          ...input,
          policy: { ...nightly, schedule: { ...nightly.schedule, cron: '30 2 * * *' } },
          eventSources: [drops],
        }),
        await engine.createDSource({ ...other, policy: {} }),
        await engine.createDSource({ ...other, policy: { schedule: null }, eventSources: [] }),
      ];

      // Assess
      expect(repeats).toEqual([first, first, defaulted, defaulted]);
      for (const changed of [
        { policy: { ...nightly, retention: { daily: 15 } } },
        { policy: undefined },
        { eventSources: [] },
        { eventSources: [{ ...drops, prefix: 'other/' }] },
      ])
        await expect(
          engine.createDSource({ ...input, policy: nightly, eventSources: [drops], ...changed }),
        ).rejects.toMatchObject({
          name: ErrorNames.Conflict,
          field: 'id',
          message: expect.stringContaining(dsourceId),
        });
      const { snapshot, local } = await seedSnapshotOf(first.id);
      const vdbInput = {
        id: vdbId,
        name: 'dev',
        snapshotId: snapshot.id,
        environmentId: local,
        parameters: { mountLocation: '/mnt/dev' },
      };
      const vdb = await engine.createVdb(vdbInput);
      expect(await engine.createVdb({ ...vdbInput, policy: { schedule: null } })).toEqual(vdb);
      await expect(engine.createVdb({ ...vdbInput, policy: { retention: { hourly: 1 } } })).rejects.toMatchObject({
        name: ErrorNames.Conflict,
        field: 'id',
      });
      expect(await engine.listDSources()).toHaveLength(3);
      expect(await engine.listVdbs()).toHaveLength(1);
    });

    /** A snapshot of the dataset, and the id of the environment it stages on. */
    async function seedSnapshotOf(datasetId: string) {
      const snapshot = await engine.snapshotDataset(datasetId, { provenance, metadata: {} });
      return { snapshot, local: (await engine.getDSource(datasetId)).stagingEnvironmentId };
    }

    it("replaces a dSource's policy and event sources, each only when given, durably", async () => {
      // Prepare
      const input = await dsourceInput();
      const dsource = await engine.createDSource({ ...input, eventSources: [drops] });

      // Act
      const withPolicy = await engine.updateDatasetSettings(dsource.id, { policy: nightly });
      const withSources = await engine.updateDatasetSettings(dsource.id, {
        eventSources: [drops, { ...drops, prefix: 'late/' }],
      });
      const cleared = await engine.updateDatasetSettings(dsource.id, { policy: {}, eventSources: [] });
      const restarted = (await openEngine(root)).engine;

      // Assess
      expect(withPolicy).toEqual({ ...dsource, policy: nightlyResolved });
      expect(withSources).toEqual({
        ...dsource,
        policy: nightlyResolved,
        eventSources: [drops, { ...drops, prefix: 'late/' }],
      });
      expect(cleared).toEqual({
        ...dsource,
        policy: { schedule: null, retention: { ...DEFAULT_RETENTION } },
        eventSources: [],
      });
      expect(await restarted.getDSource(dsource.id)).toEqual(cleared);
    });

    it("replaces a VDB's policy, and refuses event sources for a VDB with ValidationError naming eventSources", async () => {
      // Prepare
      const { snapshot, local } = await seedSnapshot();
      const vdb = await provision(snapshot, local.id);

      // Act
      const updated = await engine.updateDatasetSettings(vdb.id, { policy: nightly });
      const refusal = engine.updateDatasetSettings(vdb.id, { policy: {}, eventSources: [drops] });

      // Assess
      expect(updated).toEqual({ ...vdb, policy: nightlyResolved });
      await expect(refusal).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'eventSources',
        message: expect.stringMatching(/^eventSources .*VDB/),
      });
      expect(await engine.getVdb(vdb.id)).toEqual(updated);
    });

    it.each([
      [{}, undefined, /names no setting/],
      [{ policy: { retention: { weekly: 'many' } } }, 'policy.retention.weekly', /^policy\.retention\.weekly /],
      [
        { policy: { schedule: { cron: '* * 31 2 1', timeZone: 'UTC' } } },
        'policy.schedule.cron',
        /^policy\.schedule\.cron /,
      ],
      [{ eventSources: [{ ...drops, prefix: 'a\nb' }] }, 'eventSources.0.prefix', /^eventSources\.0\.prefix /],
      [{ eventSources: [drops, drops] }, 'eventSources.1', /^eventSources\.1 repeats eventSources\.0/],
      [{ schedule: null }, 'schedule', /^schedule is not a known field/],
    ])('refuses the settings %j, naming %s and changing nothing', async (settings, field, message) => {
      const { dsource } = await seed();
      await expect(engine.updateDatasetSettings(dsource.id, settings as object)).rejects.toMatchObject({
        name: ErrorNames.Validation,
        message: expect.stringMatching(message),
        ...(field === undefined ? {} : { field }),
      });
      expect(await engine.getDSource(dsource.id)).toEqual(dsource);
    });

    it('answers NotFoundError for settings of an unknown dataset', async () => {
      await expect(engine.updateDatasetSettings('ds-0000000000000000', { policy: {} })).rejects.toMatchObject({
        name: ErrorNames.NotFound,
        field: 'datasetId',
      });
    });

    it("sets and clears a snapshot's expiry and retain-forever mark, durably, keeping its request token", async () => {
      // Prepare
      const { dsource } = await seed();
      const requestToken = 'exec-1/SnapshotDataset';
      const snapshot = await engine.snapshotDataset(dsource.id, { provenance, metadata: {}, requestToken });

      // Act
      const expiring = await engine.updateSnapshot(snapshot.id, { expiresAt: '2030-06-30T00:00:00Z' });
      const kept = await engine.updateSnapshot(snapshot.id, { retainForever: true });
      const restarted = (await openEngine(root)).engine;
      const reloaded = await restarted.getSnapshot(snapshot.id);
      const unexpiring = await restarted.updateSnapshot(snapshot.id, { expiresAt: null });
      const cleared = await restarted.updateSnapshot(snapshot.id, { retainForever: false });
      const both = await restarted.updateSnapshot(snapshot.id, {
        expiresAt: '2020-01-01T00:00:00.5Z',
        retainForever: true,
      });

      // Assess
      expect(expiring).toEqual({ ...snapshot, expiresAt: '2030-06-30T00:00:00.000Z' });
      expect(kept).toEqual({ ...snapshot, expiresAt: '2030-06-30T00:00:00.000Z', retainForever: true });
      expect(reloaded).toEqual(kept);
      expect(unexpiring).toEqual({ ...snapshot, retainForever: true });
      expect(cleared).toEqual(snapshot);
      expect(cleared).not.toHaveProperty('retainForever');
      expect(both).toEqual({ ...snapshot, expiresAt: '2020-01-01T00:00:00.500Z', retainForever: true });
      expect(await restarted.listSnapshots({ datasetId: dsource.id })).toEqual([both]);
      expect(both).not.toHaveProperty('requestToken');
      expect((await restarted.snapshotDataset(dsource.id, { provenance, metadata: {}, requestToken })).id).toBe(
        snapshot.id,
      );
    });

    it.each([
      [{}, 'request', /names no field/],
      [{ expiresAt: 'tomorrow' }, 'expiresAt', /^expiresAt "tomorrow" is not a UTC timestamp/],
      [{ expiresAt: '2030-02-30T00:00:00Z' }, 'expiresAt', /^expiresAt .* is not a UTC timestamp/],
      [{ expiresAt: '2030-06-30T00:00:00+02:00' }, 'expiresAt', /^expiresAt /],
      [{ expiresAt: 1_900_000_000 }, 'expiresAt', /^expiresAt /],
      [{ retainForever: 'yes' }, 'retainForever', /^retainForever must be of type boolean/],
      [{ pinned: true }, 'pinned', /^pinned is not a known field/],
    ])('refuses the snapshot change %j, naming %s and changing nothing', async (change, field, message) => {
      const { snapshot } = await seedSnapshot();
      const refusal = engine.updateSnapshot(snapshot.id, change as { retainForever?: boolean });
      await expect(refusal).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field,
        message: expect.stringMatching(message),
      });
      await expect(refusal).rejects.toMatchObject({ action: expect.not.stringContaining('request.') });
      expect(await engine.getSnapshot(snapshot.id)).toEqual(snapshot);
    });

    it('answers NotFoundError for an unknown snapshot', async () => {
      await expect(engine.updateSnapshot('snap-0000000000000000', { retainForever: true })).rejects.toMatchObject({
        name: ErrorNames.NotFound,
      });
    });

    it('loads a version-2 file written before policies as records with the defaults and no expiry', async () => {
      // Prepare: the file as an engine before policies wrote it.
      const input = await dsourceInput();
      const dsource = await engine.createDSource(input);
      const snapshot = await engine.snapshotDataset(dsource.id, { provenance, metadata: {} });
      const vdb = await provision(snapshot, input.stagingEnvironmentId);
      const path = join(root, 'engine', 'metadata.json');
      const written = JSON.parse(await readFile(path, 'utf8'));
      for (const record of written.dsources) {
        delete record.policy;
        delete record.eventSources;
      }
      for (const record of written.vdbs) delete record.policy;
      await writeFile(path, JSON.stringify(written));

      // Act
      const { engine: loaded, report } = await openEngine(root);
      const updated = await loaded.updateDatasetSettings(dsource.id, { eventSources: [drops] });

      // Assess
      expect(report.inconsistencies).toEqual([]);
      expect(await loaded.getDSource(dsource.id)).toEqual({ ...dsource, eventSources: [drops] });
      expect(updated.policy).toEqual({ schedule: null, retention: { ...DEFAULT_RETENTION } });
      expect(await loaded.getVdb(vdb.id)).toEqual(vdb);
      expect(await loaded.getSnapshot(snapshot.id)).toEqual(snapshot);
      const rewritten = JSON.parse(await readFile(path, 'utf8'));
      expect(rewritten.dsources.find((record: { id: string }) => record.id === dsource.id).policy).toEqual(
        dsource.policy,
      );
      expect(rewritten.vdbs[0].policy).toEqual(vdb.policy);
    });
  });

  describe('migration from version 1', () => {
    const hex = { dsource: '00000000000000a1', vdb: '00000000000000b2' };
    const ids = {
      environment: 'env-00000000000000c3',
      sourceConfig: 'sc-00000000000000d4',
      dsource: `ds-${hex.dsource}`,
      snapshot: 'snap-00000000000000e5',
      vdb: `vdb-${hex.vdb}`,
    };
    const createdAt = '2026-01-01T00:00:00.000Z';

    /** A pool and a version-1 document as the previous engine left them: storage named by dataset ids. */
    async function writeVersion1(engineRoot: string) {
      const old = new DirBackend(engineRoot);
      await old.open();
      await writeFile(join(await old.createDataset(ids.dsource), 'data.txt'), 'linked');
      await old.snapshot(ids.dsource, ids.snapshot);
      await writeFile(join(await old.clone(ids.snapshot, ids.vdb), 'data.txt'), 'vdb writes');
      const document = {
        version: 1,
        environments: [{ id: ids.environment, name: 'local', hostId: 'local', createdAt }],
        sourceConfigs: [{ id: ids.sourceConfig, environmentId: ids.environment, name: 'd', path: '/srv/d', createdAt }],
        dsources: [
          {
            id: ids.dsource,
            name: 'data',
            sourceConfigId: ids.sourceConfig,
            stagingEnvironmentId: ids.environment,
            parameters: linkedSource,
            createdAt,
          },
        ],
        snapshots: [
          {
            id: ids.snapshot,
            datasetId: ids.dsource,
            createdAt,
            metadata: {},
            provenance,
            path: old.snapshotPath(ids.snapshot),
          },
        ],
        vdbs: [
          {
            id: ids.vdb,
            name: 'dev',
            parentSnapshotId: ids.snapshot,
            environmentId: ids.environment,
            parameters: { mountLocation: '/mnt/dev' },
            status: 'RUNNING',
            createdAt,
          },
        ],
      };
      await writeFile(join(engineRoot, 'metadata.json'), JSON.stringify(document));
      return old;
    }

    it('renames each dataset storage to a timeflow and records timeflows, keeping all data', async () => {
      // Prepare
      const migrating = join(root, 'migrating');
      await mkdir(migrating);
      await writeVersion1(join(migrating, 'engine'));

      // Act
      const opened = await openEngine(migrating);

      // Assess
      const { engine: migrated, backend: pool, report } = opened;
      const timeflows = { dsource: `tf-${hex.dsource}`, vdb: `tf-${hex.vdb}` };
      expect(report).toEqual({
        migrated: {
          fromVersion: 1,
          renames: [
            { from: ids.dsource, to: timeflows.dsource },
            { from: ids.vdb, to: timeflows.vdb },
          ],
        },
        quarantinedTimeflows: [],
        quarantinedSnapshots: [],
        inconsistencies: [],
      });
      expect(await pool.list()).toEqual({ datasets: [timeflows.dsource, timeflows.vdb], snapshots: [ids.snapshot] });
      expect(await migrated.getEnvironment(ids.environment)).toMatchObject({ scratchPath: '/var/tmp/snapflow' });
      expect(await migrated.getDSource(ids.dsource)).toMatchObject({
        currentTimeflowId: timeflows.dsource,
        policy: { schedule: null, retention: { ...DEFAULT_RETENTION } },
        eventSources: [],
      });
      expect(await migrated.getVdb(ids.vdb)).toMatchObject({
        parentDatasetId: ids.dsource,
        parentSnapshotId: ids.snapshot,
        status: 'RUNNING',
        enabled: true,
        currentTimeflowId: timeflows.vdb,
        policy: { schedule: null, retention: { ...DEFAULT_RETENTION } },
      });
      expect(await migrated.listTimeflows()).toEqual([
        {
          id: timeflows.dsource,
          datasetId: ids.dsource,
          kind: 'link',
          createdAt,
          path: pool.datasetPath(timeflows.dsource),
        },
        {
          id: timeflows.vdb,
          datasetId: ids.vdb,
          kind: 'provision',
          parentSnapshotId: ids.snapshot,
          createdAt,
          path: pool.datasetPath(timeflows.vdb),
        },
      ]);
      expect(await migrated.getSnapshot(ids.snapshot)).toMatchObject({ timeflowId: timeflows.dsource });
      const vdbTree = (await migrated.exportDataset(ids.vdb, { readOnly: true })).source;
      expect(await readFile(join(vdbTree, 'data.txt'), 'utf8')).toBe('vdb writes');
      expect(await readFile(join(pool.snapshotPath(ids.snapshot), 'data.txt'), 'utf8')).toBe('linked');
      expect(JSON.parse(await readFile(join(migrating, 'engine', 'metadata.json'), 'utf8'))).toMatchObject({
        version: 2,
      });
      expect((await openEngine(migrating)).report).toEqual({
        quarantinedTimeflows: [],
        quarantinedSnapshots: [],
        inconsistencies: [],
      });
    });

    it('finishes a migration a crash interrupted after some renames', async () => {
      // Prepare: the dSource's storage was renamed, then the engine died before writing version 2.
      const migrating = join(root, 'interrupted');
      await mkdir(migrating);
      const old = await writeVersion1(join(migrating, 'engine'));
      await old.renameDataset(ids.dsource, `tf-${hex.dsource}`);

      // Act
      const { engine: migrated, backend: pool, report } = await openEngine(migrating);

      // Assess
      expect(report.inconsistencies).toEqual([]);
      expect((await pool.list()).datasets).toEqual([`tf-${hex.dsource}`, `tf-${hex.vdb}`]);
      const { currentTimeflowId } = await migrated.getDSource(ids.dsource);
      expect(await readFile(join(pool.datasetPath(currentTimeflowId), 'data.txt'), 'utf8')).toBe('linked');
    });

    it('refuses to start, removing nothing, when storage exists under both the old and the new name', async () => {
      // Prepare
      const migrating = join(root, 'ambiguous');
      await mkdir(migrating);
      const old = await writeVersion1(join(migrating, 'engine'));
      await old.createDataset(`tf-${hex.vdb}`);

      // Act
      const opening = openEngine(migrating);

      // Assess
      await expect(opening).rejects.toMatchObject({
        name: ErrorNames.Storage,
        message: expect.stringContaining(ids.vdb),
      });
      expect((await old.list()).datasets).toEqual([ids.dsource, `tf-${hex.vdb}`, ids.vdb]);
      expect(JSON.parse(await readFile(join(migrating, 'engine', 'metadata.json'), 'utf8')).version).toBe(1);
    });
  });
});
