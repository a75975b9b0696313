import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorNames } from '../../../lib/core/errors';
import type { Provenance } from '../../../lib/core/model';
import { ID_PATTERN } from '../../../lib/core/workflow-inputs';
import { DirBackend } from '../../../lib/engine/backends/dir-backend';
import { Engine } from '../../../lib/engine/engine';
import { MetadataStore } from '../../../lib/engine/metadata-store';
import { makeTempRoot, removeTempRoot } from '../../support/engine-temp-root';

const provenance: Provenance = { trigger: { kind: 'api' }, pluginVersion: '0.1.0' };
const linkedSource = { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/staging/data' };

/** An engine over a dir backend and a metadata file under `root`, reconciled as at start-up. */
async function openEngine(root: string) {
  const backend = new DirBackend(join(root, 'engine'));
  await backend.open();
  const store = await MetadataStore.open(join(root, 'engine', 'metadata.json'));
  const engine = new Engine({ backend, backendReason: 'dir backend: chosen by the test', store });
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

  /** A local environment and a source config on it, a dSource staged locally, and a second host. */
  async function seed() {
    const local = await engine.createEnvironment({ name: 'local', hostId: 'local' });
    const alsoLocal = await engine.createEnvironment({ name: 'local again', hostId: 'local' });
    const remote = await engine.createEnvironment({ name: 'remote', hostId: 'i-0123456789abcdef0' });
    const sourceConfig = await engine.createSourceConfig({ environmentId: local.id, name: 'data', path: '/srv/data' });
    const dsource = await engine.createDSource({
      name: 'data',
      sourceConfigId: sourceConfig.id,
      stagingEnvironmentId: local.id,
      parameters: linkedSource,
    });
    return { local, alsoLocal, remote, sourceConfig, dsource };
  }

  /** A dSource holding one file, snapshotted once. */
  async function seedSnapshot() {
    const seeded = await seed();
    await writeFile(join(backend.datasetPath(seeded.dsource.id), 'data.txt'), 'v1');
    const snapshot = await engine.snapshotDataset(seeded.dsource.id, { provenance, metadata: {} });
    return { ...seeded, snapshot };
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
      const ids = [local.id, sourceConfig.id, dsource.id, snapshot.id, vdb.id];
      expect(ids.map((id) => id.split('-')[0])).toEqual(['env', 'sc', 'ds', 'snap', 'vdb']);
      for (const id of ids) expect(id).toMatch(new RegExp(ID_PATTERN));
    });
  });

  describe('createEnvironment', () => {
    it('records the environment, lists it and gets it by id', async () => {
      const created = await engine.createEnvironment({ name: 'web 1', hostId: 'mi-0123456789abcdef0' });
      expect(created).toMatchObject({ name: 'web 1', hostId: 'mi-0123456789abcdef0' });
      expect(Date.parse(created.createdAt)).not.toBeNaN();
      expect(await engine.getEnvironment(created.id)).toEqual(created);
      expect(await engine.listEnvironments()).toEqual([created]);
    });

    it.each([
      [{ name: 'x', hostId: 'web-1' }, 'hostId'],
      [{ name: '', hostId: 'local' }, 'name'],
      [{ hostId: 'local' }, 'name'],
      [{ name: 'x', hostId: 'local', region: 'eu' }, 'region'],
    ])('refuses %j with ValidationError naming %s', async (input, field) => {
      await expect(engine.createEnvironment(input as { name: string; hostId: string })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field,
        message: expect.stringContaining(field),
      });
    });

    it('answers NotFoundError for an unknown id', async () => {
      await expect(engine.getEnvironment('env-0000000000000000')).rejects.toMatchObject({ name: ErrorNames.NotFound });
    });
  });

  describe('createSourceConfig', () => {
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
    it('records the dSource and creates its empty storage', async () => {
      const { dsource, sourceConfig, local } = await seed();
      expect(dsource).toMatchObject({
        sourceConfigId: sourceConfig.id,
        stagingEnvironmentId: local.id,
        parameters: linkedSource,
      });
      expect(await readdir(backend.datasetPath(dsource.id))).toEqual([]);
      expect(await engine.getDSource(dsource.id)).toEqual(dsource);
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
      const { sourceConfig, alsoLocal } = await seed();
      await expect(
        engine.createDSource({
          name: 'x',
          sourceConfigId: sourceConfig.id,
          stagingEnvironmentId: alsoLocal.id,
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
      await writeFile(join(backend.datasetPath(dsource.id), 'data.txt'), 'v2');

      // Assess
      expect(snapshot).toMatchObject({ datasetId: dsource.id, metadata: {}, provenance });
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
      await expect(engine.listSnapshots({ datasetId: 'ds-0000000000000000' })).rejects.toMatchObject({
        name: ErrorNames.NotFound,
        field: 'datasetId',
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
    it('answers a bind export of the dataset storage', async () => {
      const { dsource } = await seed();
      expect(await engine.exportDataset(dsource.id, { readOnly: false })).toEqual({
        datasetId: dsource.id,
        kind: 'bind',
        source: backend.datasetPath(dsource.id),
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
      expect(vdb).toMatchObject({ parentSnapshotId: snapshot.id, environmentId: remote.id, status: 'PROVISIONING' });
      expect(await readFile(join(snapshot.path, 'data.txt'), 'utf8')).toBe('v1');
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
      const { snapshot, local, alsoLocal } = await seedSnapshot();
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
          environmentId: alsoLocal.id,
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
      const { snapshot, dsource, alsoLocal, remote } = await seedSnapshot();
      const parameters = { mountLocation: linkedSource.mountLocation };
      await expect(
        engine.createVdb({ name: 'qa', snapshotId: snapshot.id, environmentId: alsoLocal.id, parameters }),
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
    it('sets status and source config, and nothing else', async () => {
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
      await expect(engine.updateVdb(vdb.id, { status: 'STOPPED' as never })).rejects.toMatchObject({
        name: ErrorNames.Validation,
        field: 'status',
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
      expect(await backend.list()).toEqual({ datasets: [], snapshots: [] });
      expect((await engine.health()).inconsistencies).toEqual([]);
    });

    it('deletes a snapshot without clones, and answers NotFoundError when deleting again', async () => {
      const { snapshot, dsource } = await seedSnapshot();
      await engine.deleteSnapshot(snapshot.id);
      expect(await backend.list()).toEqual({ datasets: [dsource.id], snapshots: [] });
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
      expect(reopened.report).toEqual({ removedDatasets: [], removedSnapshots: [], inconsistencies: [] });
    });
  });

  describe('reconcile and health', () => {
    it('removes storage that no record refers to, as a crash between the two steps leaves', async () => {
      // Prepare
      const { dsource } = await seed();
      await backend.createDataset('vdb-00000000000000aa');
      await backend.snapshot(dsource.id, 'snap-00000000000000bb');
      expect((await engine.health()).inconsistencies.map((problem) => problem.kind)).toEqual([
        'orphan-storage',
        'orphan-storage',
      ]);

      // Act
      const { report } = await openEngine(root);

      // Assess
      expect(report.removedDatasets).toEqual(['vdb-00000000000000aa']);
      expect(report.removedSnapshots).toEqual(['snap-00000000000000bb']);
      expect(await backend.list()).toEqual({ datasets: [dsource.id], snapshots: [] });
    });

    it('keeps records whose storage is missing and reports them on health', async () => {
      // Prepare
      const { dsource, snapshot } = await seedSnapshot();
      await rm(backend.datasetPath(dsource.id), { recursive: true });

      // Act
      const reopened = await openEngine(root);
      const health = await reopened.engine.health();

      // Assess
      expect(health.status).toBe('degraded');
      expect(health.backend).toEqual({ kind: 'dir', reason: 'dir backend: chosen by the test' });
      expect(health.inconsistencies).toEqual([
        { kind: 'missing-storage', id: dsource.id, message: expect.stringContaining(backend.datasetPath(dsource.id)) },
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
        version: 1,
        vdbs: [],
      });
    });
  });
});
