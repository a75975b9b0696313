import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorNames, SnapflowError } from '../core/errors';
import type { DSource, Environment, Lease, Snapshot, SourceConfig, Timeflow, Vdb } from '../core/model';
import { DEFAULT_SCRATCH_PATH } from './api-schemas';
import { defaultDSourcePolicy, defaultVdbPolicy } from './dataset-settings';

/** A timeflow as recorded; its path depends on where the pool is, so it is worked out when answering. */
export type TimeflowRecord = Omit<Timeflow, 'path'>;

/**
 * A snapshot as recorded: without its path, which depends on where the pool is and is worked out when
 * answering, and with the token of the request that made it, which answers never show. Files written
 * before still hold a path; it is ignored.
 */
export type SnapshotRecord = Omit<Snapshot, 'path'> & { requestToken?: string };

/** Everything the engine records, as one JSON document. */
export interface EngineDocument {
  /** Format version, for migrations. */
  version: 2;
  environments: Environment[];
  sourceConfigs: SourceConfig[];
  dsources: DSource[];
  timeflows: TimeflowRecord[];
  snapshots: SnapshotRecord[];
  vdbs: Vdb[];
  /** At most one per dataset; an expired one is as good as none. Absent from files written before leases. */
  leases: Lease[];
}

/**
 * Fields added within version 2, absent from files written before them; loading fills them in: a
 * dSource gets the default policy and no event sources, a VDB the default VDB policy. A snapshot
 * without `expiresAt` and `retainForever` has no expiry and is not retained forever, so it needs none.
 */
type StoredDSource = Omit<DSource, 'policy' | 'eventSources'> & Partial<Pick<DSource, 'policy' | 'eventSources'>>;
type StoredVdb = Omit<Vdb, 'policy'> & Partial<Pick<Vdb, 'policy'>>;

/** The document as version 1 kept it: storage belonged to dSources and VDBs, named by their ids. */
export interface EngineDocumentV1 {
  version: 1;
  environments: Omit<Environment, 'scratchPath'>[];
  sourceConfigs: SourceConfig[];
  dsources: Omit<DSource, 'currentTimeflowId' | 'policy' | 'eventSources'>[];
  snapshots: Omit<Snapshot, 'timeflowId' | 'expiresAt' | 'retainForever'>[];
  vdbs: (Omit<Vdb, 'parentDatasetId' | 'enabled' | 'currentTimeflowId' | 'status' | 'policy'> & {
    status: 'PROVISIONING' | 'RUNNING';
  })[];
}

/** A dataset in the pool that must get a new id before a migrated document may be written. */
export interface StorageRename {
  from: string;
  to: string;
}

/** What loading an older document left to do: rename storage, then write the migrated document. */
export interface PendingMigration {
  fromVersion: 1;
  renames: StorageRename[];
}

const COLLECTIONS_V1 = ['environments', 'sourceConfigs', 'dsources', 'snapshots', 'vdbs'] as const;
const COLLECTIONS = [...COLLECTIONS_V1, 'timeflows'] as const;

/** A document with no records. */
export function emptyDocument(): EngineDocument {
  return {
    version: 2,
    environments: [],
    sourceConfigs: [],
    dsources: [],
    timeflows: [],
    snapshots: [],
    vdbs: [],
    leases: [],
  };
}

/**
 * Turns a version-1 document into version 2. Each dSource and VDB gets one timeflow, `tf-` with the
 * dataset's own 16 hex digits, which takes over the dataset's storage (hence the renames); snapshots
 * are recorded as taken of it. Pure: the caller renames the storage, then writes the document.
 *
 * @throws StorageError when two datasets would get the same timeflow id
 */
export function migrateFromVersion1(legacy: EngineDocumentV1): { document: EngineDocument; renames: StorageRename[] } {
  const timeflowOf = (datasetId: string) => `tf-${datasetId.slice(datasetId.indexOf('-') + 1)}`;
  const renames = [...legacy.dsources, ...legacy.vdbs].map((dataset) => ({
    from: dataset.id,
    to: timeflowOf(dataset.id),
  }));
  const owners = new Map<string, string>();
  for (const { from, to } of renames) {
    const clash = owners.get(to);
    if (clash !== undefined)
      throw new SnapflowError(
        ErrorNames.Storage,
        `cannot migrate the engine metadata: datasets ${clash} and ${from} would both get timeflow ${to}`,
        { action: 'Delete one of the two datasets with the previous engine version, then start this one.' },
      );
    owners.set(to, from);
  }
  const snapshotOwner = new Map(legacy.snapshots.map((snapshot) => [snapshot.id, snapshot.datasetId]));
  const document: EngineDocument = {
    version: 2,
    environments: legacy.environments.map((environment) => ({ ...environment, scratchPath: DEFAULT_SCRATCH_PATH })),
    sourceConfigs: legacy.sourceConfigs,
    dsources: legacy.dsources.map((dsource) => ({
      ...dsource,
      currentTimeflowId: timeflowOf(dsource.id),
      policy: defaultDSourcePolicy(),
      eventSources: [],
    })),
    timeflows: [
      ...legacy.dsources.map(
        (dsource): TimeflowRecord => ({
          id: timeflowOf(dsource.id),
          datasetId: dsource.id,
          kind: 'link',
          createdAt: dsource.createdAt,
        }),
      ),
      ...legacy.vdbs.map(
        (vdb): TimeflowRecord => ({
          id: timeflowOf(vdb.id),
          datasetId: vdb.id,
          kind: 'provision',
          parentSnapshotId: vdb.parentSnapshotId,
          createdAt: vdb.createdAt,
        }),
      ),
    ],
    snapshots: legacy.snapshots.map((snapshot) => ({ ...snapshot, timeflowId: timeflowOf(snapshot.datasetId) })),
    vdbs: legacy.vdbs.map((vdb) => ({
      ...vdb,
      // A parent snapshot already gone was a dangling reference in version 1; health keeps reporting it.
      parentDatasetId: snapshotOwner.get(vdb.parentSnapshotId) ?? '',
      enabled: true,
      currentTimeflowId: timeflowOf(vdb.id),
      policy: defaultVdbPolicy(),
    })),
    leases: [],
  };
  return { document, renames };
}

/**
 * The engine's durable metadata: one JSON file, replaced atomically on every write (temporary file,
 * fsync, rename, fsync of the directory), so that a crash at any moment leaves the old document or the
 * new one, never a mix. One writer at a time: the engine serializes its mutations.
 */
export class MetadataStore {
  private current: EngineDocument;
  private onDisk: boolean;
  private migration: PendingMigration | undefined;

  private constructor(
    /** The metadata file. */
    readonly path: string,
    document: EngineDocument,
    onDisk: boolean,
    migration?: PendingMigration,
  ) {
    this.current = document;
    this.onDisk = onDisk;
    this.migration = migration;
  }

  /**
   * Set when the file holds an older version: {@link document} is already migrated in memory, but the
   * file keeps the old version until the next write, which the renames must precede.
   */
  get pendingMigration(): PendingMigration | undefined {
    return this.migration;
  }

  /** True until the first write when there was no file: the store has never been written. */
  get isNew(): boolean {
    return !this.onDisk;
  }

  /**
   * Loads the document at `path`, or starts an empty one when there is no file yet. A version-1 file is
   * migrated in memory (see {@link pendingMigration}); the file itself is left alone.
   *
   * @throws StorageError when the file exists but is not an engine document
   */
  static async open(path: string): Promise<MetadataStore> {
    // A temporary file is a write that never got renamed: the document it held was never committed.
    await rm(temporaryPath(path), { force: true });
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new MetadataStore(path, emptyDocument(), false);
      throw storageError(`cannot read the engine metadata at ${path}`, error);
    }
    const parsed = parseDocument(text, path);
    if (parsed.version === 2) return new MetadataStore(path, parsed, true);
    const { document, renames } = migrateFromVersion1(parsed);
    return new MetadataStore(path, document, true, { fromVersion: 1, renames });
  }

  /** The last document written or loaded. Treat it as immutable: write a new one instead. */
  get document(): EngineDocument {
    return this.current;
  }

  /**
   * Replaces the document durably; it is current once this resolves.
   *
   * @throws StorageError when the file cannot be written
   */
  async write(next: EngineDocument): Promise<void> {
    const temporary = temporaryPath(this.path);
    try {
      const file = await open(temporary, 'w', 0o600);
      try {
        await file.writeFile(`${JSON.stringify(next, null, 2)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, this.path);
    } catch (error) {
      throw storageError(`cannot write the engine metadata at ${this.path}`, error);
    }
    // The file holds `next` from here on, so memory must too, whatever the directory fsync does:
    // otherwise the next write, made from the old document, would silently undo this one.
    this.current = next;
    this.onDisk = true;
    this.migration = undefined;
    try {
      // The rename lives in the directory; without this fsync a crash could forget it.
      await syncDirectory(dirname(this.path));
    } catch (error) {
      throw storageError(
        `the engine metadata at ${this.path} was replaced and is in effect, but its directory could not be synced, so a power loss could still undo the change`,
        error,
      );
    }
  }
}

/** fsyncs a directory, making the renames in it durable. */
async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

function temporaryPath(path: string): string {
  return `${path}.tmp`;
}

function parseDocument(text: string, path: string): EngineDocument | EngineDocumentV1 {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw storageError(`the engine metadata at ${path} is not valid JSON`, error);
  }
  const document = value as Partial<Record<string, unknown>> | null;
  const has = (names: readonly string[]) => names.every((name) => Array.isArray(document?.[name]));
  if (document?.version === 2 && has(COLLECTIONS)) {
    // Leases came later within version 2: a file without them has none.
    if (document.leases !== undefined && !Array.isArray(document.leases))
      throw storageError(`the engine metadata at ${path} has leases that are not a list`, undefined);
    const loaded = document as unknown as Omit<EngineDocument, 'dsources' | 'vdbs'> & {
      dsources: StoredDSource[];
      vdbs: StoredVdb[];
    };
    return {
      ...loaded,
      dsources: loaded.dsources.map((dsource) => ({
        ...dsource,
        policy: dsource.policy ?? defaultDSourcePolicy(),
        eventSources: dsource.eventSources ?? [],
      })),
      vdbs: loaded.vdbs.map((vdb) => ({ ...vdb, policy: vdb.policy ?? defaultVdbPolicy() })),
      leases: (document.leases as Lease[] | undefined) ?? [],
    };
  }
  if (document?.version === 1 && has(COLLECTIONS_V1)) return document as unknown as EngineDocumentV1;
  throw storageError(`the engine metadata at ${path} is not a version 1 or 2 engine document`, undefined);
}

function storageError(message: string, cause: unknown): SnapflowError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new SnapflowError(
    ErrorNames.Storage,
    `${message}${detail}`,
    {
      action:
        'Check the file and its directory (permissions, free space). Restore a damaged file from a backup; ' +
        'do not delete it, or the engine would treat all storage as unreferenced.',
    },
    { cause },
  );
}
