import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorNames } from '../../../lib/core/errors';
import { DEFAULT_RETENTION } from '../../../lib/core/snapshot-policy';
import {
  type EngineDocumentV1,
  emptyDocument,
  MetadataStore,
  migrateFromVersion1,
} from '../../../lib/engine/metadata-store';
import { makeTempRoot, removeTempRoot } from '../../support/engine-temp-root';

const environment = {
  id: 'env-0123456789abcdef',
  name: 'local',
  hostId: 'local',
  scratchPath: '/var/tmp/snapflow',
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('MetadataStore', () => {
  let root: string;
  let path: string;

  beforeEach(async () => {
    root = await makeTempRoot('metadata');
    path = join(root, 'metadata.json');
  });

  afterEach(async () => {
    await removeTempRoot(root);
  });

  it('starts empty and new when there is no file, without writing one', async () => {
    const store = await MetadataStore.open(path);
    expect(store.isNew).toBe(true);
    expect(store.document).toEqual(emptyDocument());
    expect(await readdir(root)).toEqual([]);
  });

  it('writes a document that the next open loads, readable by its owner only', async () => {
    // Prepare
    const store = await MetadataStore.open(path);

    // Act
    await store.write({ ...emptyDocument(), environments: [environment] });
    const reopened = await MetadataStore.open(path);

    // Assess
    expect(store.isNew).toBe(false);
    expect(reopened.isNew).toBe(false);
    expect(reopened.document.environments).toEqual([environment]);
    expect(store.document.environments).toEqual([environment]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(root)).toEqual(['metadata.json']);
  });

  it('ignores and removes a temporary file that a crash left before its rename', async () => {
    // Prepare
    await (await MetadataStore.open(path)).write({ ...emptyDocument(), environments: [environment] });
    await writeFile(`${path}.tmp`, '{"version":1,"environm');

    // Act
    const store = await MetadataStore.open(path);

    // Assess
    expect(store.document.environments).toEqual([environment]);
    expect(await readdir(root)).toEqual(['metadata.json']);
  });

  it.each([
    ['not JSON', '{"version":'],
    ['another version', '{"version":3,"environments":[]}'],
    ['missing collections', '{"version":1,"environments":[]}'],
    [
      'version 2 without timeflows',
      '{"version":2,"environments":[],"sourceConfigs":[],"dsources":[],"snapshots":[],"vdbs":[]}',
    ],
    ['not an object', '[1,2]'],
    [
      'version 2 with leases that are not a list',
      '{"version":2,"environments":[],"sourceConfigs":[],"dsources":[],"timeflows":[],"snapshots":[],"vdbs":[],"leases":{}}',
    ],
  ])('refuses a file that is %s with StorageError, and leaves it alone', async (_, content) => {
    // Prepare
    await writeFile(path, content);

    // Act
    const opening = MetadataStore.open(path);

    // Assess
    await expect(opening).rejects.toMatchObject({
      name: ErrorNames.Storage,
      message: expect.stringContaining(path),
      action: expect.stringMatching(/do not delete it/),
    });
    expect(await readFile(path, 'utf8')).toBe(content);
  });

  it('loads a version-1 file migrated in memory, leaving the file alone until the next write', async () => {
    // Prepare
    const legacy = version1Document();
    await writeFile(path, JSON.stringify(legacy));

    // Act
    const store = await MetadataStore.open(path);

    // Assess
    expect(store.isNew).toBe(false);
    expect(store.document).toEqual(migrateFromVersion1(legacy).document);
    expect(store.pendingMigration).toEqual({
      fromVersion: 1,
      renames: [
        { from: 'ds-00000000000000a1', to: 'tf-00000000000000a1' },
        { from: 'vdb-00000000000000b2', to: 'tf-00000000000000b2' },
      ],
    });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(legacy);
    await store.write(store.document);
    expect(store.pendingMigration).toBeUndefined();
    expect((await MetadataStore.open(path)).pendingMigration).toBeUndefined();
  });

  it('loads a version-2 file written before leases existed as one without leases, and keeps leases written', async () => {
    // Prepare
    const { leases: _, ...withoutLeases } = { ...emptyDocument(), environments: [environment] };
    await writeFile(path, JSON.stringify(withoutLeases));
    const lease = { datasetId: 'ds-0123456789abcdef', holder: 'run-1', expiresAt: '2026-01-01T00:05:00.000Z' };

    // Act
    const store = await MetadataStore.open(path);
    await store.write({ ...store.document, leases: [lease] });

    // Assess
    expect(store.document).toEqual({ ...emptyDocument(), environments: [environment], leases: [lease] });
    expect((await MetadataStore.open(path)).document.leases).toEqual([lease]);
  });

  it('loads a version-2 file written before policies with the default policies, no event sources and no expiry', async () => {
    // Prepare: the dSource, VDB and snapshot of a migrated version-1 document, as written before policies.
    const { document } = migrateFromVersion1(version1Document());
    const before = {
      ...document,
      dsources: document.dsources.map(({ policy: _, eventSources: __, ...dsource }) => dsource),
      vdbs: document.vdbs.map(({ policy: _, ...vdb }) => vdb),
    };
    await writeFile(path, JSON.stringify(before));
    const kept = {
      schedule: { cron: '0 3 * * *', timeZone: 'UTC' },
      retention: { hourly: 0, daily: 30, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
    };
    const eventSources = [{ kind: 's3' as const, bucket: 'drops', prefix: '' }];

    // Act
    const store = await MetadataStore.open(path);
    const loaded = store.document;
    await store.write({
      ...loaded,
      dsources: loaded.dsources.map((dsource) => ({ ...dsource, policy: kept, eventSources })),
      snapshots: loaded.snapshots.map((snapshot) => ({ ...snapshot, retainForever: true })),
    });
    const reopened = (await MetadataStore.open(path)).document;

    // Assess
    const defaults = { schedule: null, retention: { ...DEFAULT_RETENTION } };
    expect(store.pendingMigration).toBeUndefined();
    expect(loaded.dsources).toEqual(
      before.dsources.map((dsource) => ({ ...dsource, policy: defaults, eventSources: [] })),
    );
    expect(loaded.vdbs).toEqual(before.vdbs.map((vdb) => ({ ...vdb, policy: defaults })));
    expect(loaded.snapshots).toEqual(before.snapshots);
    expect(loaded.snapshots[0]).not.toHaveProperty('expiresAt');
    expect(reopened.dsources[0]).toMatchObject({ policy: kept, eventSources });
    expect(reopened.snapshots[0]).toMatchObject({ retainForever: true });
  });

  it('answers StorageError when the directory is gone', async () => {
    const store = await MetadataStore.open(join(root, 'missing', 'metadata.json'));
    await expect(store.write(emptyDocument())).rejects.toMatchObject({ name: ErrorNames.Storage });
  });

  it('leaves a whole document, old or new, when its writer is SIGKILLed at any moment', async () => {
    for (let round = 0; round < 8; round += 1) {
      // Prepare: a process rewriting the store in a tight loop.
      const writer = spawn(process.execPath, ['--import', 'tsx', 'test/support/metadata-writer.ts', path], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = once(writer, 'exit');
      await once(writer.stdout, 'data');
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 40)));

      // Act
      writer.kill('SIGKILL');
      await exited;

      // Assess: the file parses, and every environment in it was written whole.
      const store = await MetadataStore.open(path);
      const { environments } = store.document;
      expect(environments.length).toBeGreaterThan(0);
      environments.forEach((record, index) => {
        expect(record.id).toBe(`env-${index.toString(16).padStart(16, '0')}`);
        expect(record.name).toHaveLength(`environment ${index} `.length + 2000);
      });
    }
  });
});

describe('migrateFromVersion1', () => {
  it('gives each dataset a timeflow with its hex digits, and records what it became', () => {
    // Act
    const { document } = migrateFromVersion1(version1Document());

    // Assess
    expect(document.version).toBe(2);
    expect(document.environments).toEqual([environment]);
    expect(document.dsources[0]).toMatchObject({ id: 'ds-00000000000000a1', currentTimeflowId: 'tf-00000000000000a1' });
    expect(document.timeflows).toEqual([
      { id: 'tf-00000000000000a1', datasetId: 'ds-00000000000000a1', kind: 'link', createdAt: environment.createdAt },
      {
        id: 'tf-00000000000000b2',
        datasetId: 'vdb-00000000000000b2',
        kind: 'provision',
        parentSnapshotId: 'snap-00000000000000c3',
        createdAt: environment.createdAt,
      },
    ]);
    expect(document.snapshots[0]?.timeflowId).toBe('tf-00000000000000a1');
    expect(document.vdbs[0]).toMatchObject({
      parentDatasetId: 'ds-00000000000000a1',
      parentSnapshotId: 'snap-00000000000000c3',
      status: 'RUNNING',
      enabled: true,
      currentTimeflowId: 'tf-00000000000000b2',
      policy: { schedule: null, retention: { ...DEFAULT_RETENTION } },
    });
    expect(document.dsources[0]).toMatchObject({
      policy: { schedule: null, retention: { ...DEFAULT_RETENTION } },
      eventSources: [],
    });
  });

  it('refuses two datasets that would share a timeflow id, with StorageError', () => {
    const legacy = version1Document();
    const clash = { ...legacy.vdbs[0], id: 'vdb-00000000000000a1' } as EngineDocumentV1['vdbs'][number];
    expect(() => migrateFromVersion1({ ...legacy, vdbs: [clash] })).toThrow(
      expect.objectContaining({ name: ErrorNames.Storage, message: expect.stringContaining('tf-00000000000000a1') }),
    );
  });
});

/** A version-1 document: a dSource with one snapshot and a VDB cloned from it. */
function version1Document(): EngineDocumentV1 {
  const { scratchPath: _, ...legacyEnvironment } = environment;
  const createdAt = environment.createdAt;
  return {
    version: 1,
    environments: [legacyEnvironment],
    sourceConfigs: [],
    dsources: [
      {
        id: 'ds-00000000000000a1',
        name: 'data',
        sourceConfigId: 'sc-00000000000000d4',
        stagingEnvironmentId: environment.id,
        parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/staging' },
        createdAt,
      },
    ],
    snapshots: [
      {
        id: 'snap-00000000000000c3',
        datasetId: 'ds-00000000000000a1',
        createdAt,
        metadata: {},
        provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
        path: '/engine/pool/snapshots/snap-00000000000000c3',
      },
    ],
    vdbs: [
      {
        id: 'vdb-00000000000000b2',
        name: 'dev',
        parentSnapshotId: 'snap-00000000000000c3',
        environmentId: environment.id,
        parameters: { mountLocation: '/mnt/dev' },
        status: 'RUNNING',
        createdAt,
      },
    ],
  };
}
