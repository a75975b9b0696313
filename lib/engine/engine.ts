import { randomBytes } from 'node:crypto';
import { ErrorNames, isSnapflowError, SnapflowError } from '../core/errors';
import type {
  DSource,
  Environment,
  ExportSpec,
  Provenance,
  Snapshot,
  SourceConfig,
  Vdb,
  VdbStatus,
} from '../core/model';
import { mountLocationProblem, pathsOverlap } from '../core/paths';
import type { EngineApi } from '../core/ports';
import type {
  LinkedSourceParameters,
  SnapshotDefinition,
  SourceConfigDefinition,
  VirtualSourceParameters,
} from '../plugins/directory-tree/schemas';
import {
  type CreateEnvironmentRequest,
  type CreateSourceConfigRequest,
  createDSourceBody,
  createEnvironmentBody,
  createSourceConfigBody,
  createVdbBody,
  type ExportDatasetRequest,
  exportDatasetBody,
  snapshotDatasetBody,
  type UpdateVdbRequest,
  updateVdbBody,
} from './api-schemas';
import type { StorageBackend, StorageBackendKind } from './backends/storage-backend';
import type { EngineDocument, MetadataStore } from './metadata-store';
import { validateRequest } from './validate-request';

/** Something the engine's metadata and its storage disagree on. */
export interface EngineInconsistency {
  /**
   * `missing-storage`: a record whose storage is gone (kept, for a human to decide);
   * `orphan-storage`: storage no record refers to (removed at the next start);
   * `dangling-reference`: a record referring to a record that does not exist.
   */
  kind: 'missing-storage' | 'orphan-storage' | 'dangling-reference';
  /** The record or storage id. */
  id: string;
  message: string;
}

/** What `GET /health` answers. */
export interface EngineHealth {
  status: 'ok' | 'degraded';
  backend: { kind: StorageBackendKind; reason: string };
  inconsistencies: EngineInconsistency[];
}

/** What {@link Engine.reconcile} did at start-up. */
export interface ReconcileReport {
  removedDatasets: string[];
  removedSnapshots: string[];
  inconsistencies: EngineInconsistency[];
}

/** Where the engine reports what it does; `fields` never hold secrets. */
export type EngineLog = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

/** Options of {@link Engine}. */
export interface EngineOptions {
  /** Opened storage. */
  backend: StorageBackend;
  /** Why this backend was chosen, shown by the health check. */
  backendReason: string;
  store: MetadataStore;
  /** @default drops every message */
  log?: EngineLog;
  /** @default the system clock */
  now?: () => Date;
}

/** Id prefixes by record kind; with 16 hex digits they match ID_PATTERN. */
const ID_PREFIXES = {
  environment: 'env',
  sourceConfig: 'sc',
  dsource: 'ds',
  snapshot: 'snap',
  vdb: 'vdb',
} as const;

/**
 * The engine: the system of record for environments, source configs, dSources, snapshots and VDBs,
 * over a storage backend and a metadata store. Mutations run one at a time. Creating makes storage
 * first and records it second; deleting unrecords first and removes storage second. A crash between
 * the two leaves only storage no record refers to, which {@link reconcile} removes at the next start.
 */
export class Engine implements EngineApi {
  private readonly backend: StorageBackend;
  private readonly backendReason: string;
  private readonly store: MetadataStore;
  private readonly log: EngineLog;
  private readonly now: () => Date;
  private readonly mutex = new Mutex();
  /** Storage ids being created or removed right now, so health does not call them orphans. */
  private readonly pending = new Set<string>();

  constructor(options: EngineOptions) {
    this.backend = options.backend;
    this.backendReason = options.backendReason;
    this.store = options.store;
    this.log = options.log ?? (() => undefined);
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Brings storage in line with the metadata: removes storage no record refers to (left by a crash)
   * and reports records whose storage is missing, which it keeps.
   *
   * @throws StorageError when there is no metadata file but the pool holds data: the data would
   *   otherwise all be removed as unreferenced
   */
  async reconcile(): Promise<ReconcileReport> {
    return this.mutex.run(async () => {
      const listing = await this.backend.list();
      if (this.store.isNew) {
        if (listing.datasets.length + listing.snapshots.length > 0)
          throw new SnapflowError(
            ErrorNames.Storage,
            `the storage pool at ${this.backend.root} holds ${listing.datasets.length} datasets and ` +
              `${listing.snapshots.length} snapshots, but there is no metadata file at ${this.store.path}`,
            {
              action:
                'Restore the metadata file from a backup. The engine will not start, because it would ' +
                'otherwise remove all that storage as unreferenced.',
            },
          );
        // Written now, so that from here on a missing file always means a damaged root.
        await this.store.write(this.store.document);
      }
      const doc = this.store.document;
      const datasetIds = new Set([...doc.dsources, ...doc.vdbs].map((record) => record.id));
      const snapshotIds = new Set(doc.snapshots.map((record) => record.id));
      const removedDatasets: string[] = [];
      const removedSnapshots: string[] = [];
      for (const id of listing.datasets.filter((id) => !datasetIds.has(id))) {
        if (await this.removeOrphan('dataset', id, () => this.backend.deleteDataset(id))) removedDatasets.push(id);
      }
      for (const id of listing.snapshots.filter((id) => !snapshotIds.has(id))) {
        if (await this.removeOrphan('snapshot', id, () => this.backend.deleteSnapshot(id))) removedSnapshots.push(id);
      }
      const inconsistencies = await this.findInconsistencies();
      for (const problem of inconsistencies) this.log('warn', problem.message, { ...problem });
      return { removedDatasets, removedSnapshots, inconsistencies };
    });
  }

  /** The backend in use and every disagreement between metadata and storage right now. */
  async health(): Promise<EngineHealth> {
    const inconsistencies = await this.findInconsistencies();
    return {
      status: inconsistencies.length === 0 ? 'ok' : 'degraded',
      backend: { kind: this.backend.kind, reason: this.backendReason },
      inconsistencies,
    };
  }

  /** Resolves once every mutation started so far has finished; stop accepting requests first. */
  async drain(): Promise<void> {
    await this.mutex.run(async () => undefined);
  }

  async createEnvironment(input: { name: string; hostId: string }): Promise<Environment> {
    const request = validateRequest<CreateEnvironmentRequest>(createEnvironmentBody, input);
    return this.mutex.run(async () => {
      const environment: Environment = {
        id: newId(ID_PREFIXES.environment),
        name: request.name,
        hostId: request.hostId,
        createdAt: this.timestamp(),
      };
      await this.commit((doc) => ({ ...doc, environments: [...doc.environments, environment] }));
      return copy(environment);
    });
  }

  async getEnvironment(id: string): Promise<Environment> {
    return copy(this.environment(id));
  }

  async listEnvironments(): Promise<Environment[]> {
    return copy(this.store.document.environments);
  }

  async createSourceConfig(input: { environmentId: string; name: string; path: string }): Promise<SourceConfig> {
    const request = validateRequest<CreateSourceConfigRequest>(createSourceConfigBody, input);
    return this.mutex.run(async () => {
      this.environment(request.environmentId, 'environmentId');
      const sourceConfig: SourceConfig = {
        id: newId(ID_PREFIXES.sourceConfig),
        environmentId: request.environmentId,
        name: request.name,
        path: request.path,
        createdAt: this.timestamp(),
      };
      await this.commit((doc) => ({ ...doc, sourceConfigs: [...doc.sourceConfigs, sourceConfig] }));
      return copy(sourceConfig);
    });
  }

  async getSourceConfig(id: string): Promise<SourceConfig> {
    return copy(this.sourceConfig(id));
  }

  async createDSource(input: {
    name: string;
    sourceConfigId: string;
    stagingEnvironmentId: string;
    parameters: LinkedSourceParameters;
  }): Promise<DSource> {
    const request = validateRequest<typeof input>(createDSourceBody, input, { parameters: 'linkedSource' });
    const field = 'linkedSource.mountLocation';
    checkMountLocation(request.parameters.mountLocation, field);
    return this.mutex.run(async () => {
      this.sourceConfig(request.sourceConfigId, 'sourceConfigId');
      const staging = this.environment(request.stagingEnvironmentId, 'stagingEnvironmentId');
      this.checkMountFree(staging, request.parameters.mountLocation, field);
      const dsource: DSource = {
        id: newId(ID_PREFIXES.dsource),
        name: request.name,
        sourceConfigId: request.sourceConfigId,
        stagingEnvironmentId: request.stagingEnvironmentId,
        parameters: request.parameters,
        createdAt: this.timestamp(),
      };
      await this.createStorage(
        dsource.id,
        () => this.backend.createDataset(dsource.id),
        (doc) => ({
          ...doc,
          dsources: [...doc.dsources, dsource],
        }),
      );
      return copy(dsource);
    });
  }

  async getDSource(id: string): Promise<DSource> {
    return copy(this.dsource(id));
  }

  /** Every dSource, oldest first. Not (yet) part of EngineApi in lib/core/ports.ts. */
  async listDSources(): Promise<DSource[]> {
    return copy(this.store.document.dsources);
  }

  async deleteDSource(id: string): Promise<void> {
    return this.mutex.run(async () => {
      this.dsource(id);
      await this.deleteDataset(id, 'dSource');
    });
  }

  async exportDataset(datasetId: string, input: { readOnly: boolean }): Promise<ExportSpec> {
    const request = validateRequest<ExportDatasetRequest>(exportDatasetBody, input);
    this.dataset(datasetId);
    const source = this.backend.datasetPath(datasetId);
    // Caught here rather than as a puzzling mount failure on the host.
    if (!(await this.backend.list()).datasets.includes(datasetId))
      throw new SnapflowError(
        ErrorNames.Storage,
        `dataset ${datasetId} is recorded but its storage at ${source} is missing`,
        {
          action: 'See GET /health for what is missing; restore it or delete the record.',
        },
      );
    return { datasetId, kind: 'bind', source, readOnly: request.readOnly };
  }

  async snapshotDataset(
    datasetId: string,
    input: { provenance: Provenance; metadata: SnapshotDefinition },
  ): Promise<Snapshot> {
    const request = validateRequest<typeof input>(snapshotDatasetBody, input);
    return this.mutex.run(async () => {
      this.dataset(datasetId);
      const id = newId(ID_PREFIXES.snapshot);
      const snapshot: Snapshot = {
        id,
        datasetId,
        createdAt: this.timestamp(),
        metadata: request.metadata,
        provenance: request.provenance,
        path: this.backend.snapshotPath(id),
      };
      await this.createStorage(
        id,
        () => this.backend.snapshot(datasetId, id),
        (doc) => ({
          ...doc,
          snapshots: [...doc.snapshots, snapshot],
        }),
      );
      return copy(snapshot);
    });
  }

  async getSnapshot(id: string): Promise<Snapshot> {
    return this.withPath(this.snapshot(id));
  }

  async listSnapshots(filter: { datasetId?: string } = {}): Promise<Snapshot[]> {
    const { datasetId } = filter;
    if (datasetId !== undefined) this.dataset(datasetId);
    return this.store.document.snapshots
      .filter((snapshot) => datasetId === undefined || snapshot.datasetId === datasetId)
      .map((snapshot) => this.withPath(snapshot));
  }

  async deleteSnapshot(id: string): Promise<void> {
    return this.mutex.run(async () => {
      this.snapshot(id);
      const clones = this.store.document.vdbs.filter((vdb) => vdb.parentSnapshotId === id).map((vdb) => vdb.id);
      if (clones.length > 0)
        throw new SnapflowError(
          ErrorNames.DependentsExist,
          `snapshot ${id} cannot be deleted: VDBs ${clones.join(', ')} were cloned from it`,
          { action: 'Delete those VDBs first (DELETE /vdbs/{id}), then the snapshot.' },
        );
      await this.commit((doc) => ({ ...doc, snapshots: doc.snapshots.filter((snapshot) => snapshot.id !== id) }));
      await this.removeStorage('snapshot', id);
    });
  }

  async createVdb(input: {
    name: string;
    snapshotId: string;
    environmentId: string;
    parameters: VirtualSourceParameters;
  }): Promise<Vdb> {
    const request = validateRequest<typeof input>(createVdbBody, input, { parameters: 'virtualSource' });
    const field = 'virtualSource.mountLocation';
    checkMountLocation(request.parameters.mountLocation, field);
    return this.mutex.run(async () => {
      const parent = this.store.document.snapshots.find((snapshot) => snapshot.id === request.snapshotId);
      if (parent === undefined)
        throw new SnapflowError(ErrorNames.NotFound, `snapshot ${request.snapshotId} does not exist`, {
          action: 'List snapshots with GET /snapshots and pass one of their ids as snapshotId.',
          field: 'snapshotId',
        });
      const environment = this.environment(request.environmentId, 'environmentId');
      this.checkMountFree(environment, request.parameters.mountLocation, field);
      const vdb: Vdb = {
        id: newId(ID_PREFIXES.vdb),
        name: request.name,
        parentSnapshotId: parent.id,
        environmentId: environment.id,
        parameters: request.parameters,
        status: 'PROVISIONING',
        createdAt: this.timestamp(),
      };
      await this.createStorage(
        vdb.id,
        () => this.backend.clone(parent.id, vdb.id),
        (doc) => ({
          ...doc,
          vdbs: [...doc.vdbs, vdb],
        }),
      );
      return copy(vdb);
    });
  }

  async getVdb(id: string): Promise<Vdb> {
    return copy(this.vdb(id));
  }

  async listVdbs(): Promise<Vdb[]> {
    return copy(this.store.document.vdbs);
  }

  async updateVdb(id: string, input: { status?: VdbStatus; sourceConfig?: SourceConfigDefinition }): Promise<Vdb> {
    const request = validateRequest<UpdateVdbRequest>(updateVdbBody, input);
    return this.mutex.run(async () => {
      const updated: Vdb = { ...this.vdb(id) };
      if (request.status !== undefined) updated.status = request.status;
      if (request.sourceConfig !== undefined) updated.sourceConfig = request.sourceConfig;
      await this.commit((doc) => ({ ...doc, vdbs: doc.vdbs.map((vdb) => (vdb.id === id ? updated : vdb)) }));
      return copy(updated);
    });
  }

  async deleteVdb(id: string): Promise<void> {
    return this.mutex.run(async () => {
      this.vdb(id);
      await this.deleteDataset(id, 'VDB');
    });
  }

  /** Deletes a dSource or VDB with its snapshots, unless VDBs were cloned from those snapshots. */
  private async deleteDataset(id: string, label: 'dSource' | 'VDB'): Promise<void> {
    const doc = this.store.document;
    const own = new Set(doc.snapshots.filter((snapshot) => snapshot.datasetId === id).map((snapshot) => snapshot.id));
    const children = doc.vdbs.filter((vdb) => own.has(vdb.parentSnapshotId)).map((vdb) => vdb.id);
    if (children.length > 0)
      throw new SnapflowError(
        ErrorNames.DependentsExist,
        `${label} ${id} cannot be deleted: VDBs ${children.join(', ')} were cloned from its snapshots`,
        { action: 'Delete those VDBs first (DELETE /vdbs/{id}), then retry.' },
      );
    await this.commit((current) => ({
      ...current,
      dsources: current.dsources.filter((dsource) => dsource.id !== id),
      vdbs: current.vdbs.filter((vdb) => vdb.id !== id),
      snapshots: current.snapshots.filter((snapshot) => !own.has(snapshot.id)),
    }));
    for (const snapshotId of own) await this.removeStorage('snapshot', snapshotId);
    await this.removeStorage('dataset', id);
  }

  /** Makes storage, then records it; should recording fail, the storage is an orphan for reconcile. */
  private async createStorage(
    id: string,
    make: () => Promise<string>,
    record: (doc: EngineDocument) => EngineDocument,
  ): Promise<void> {
    this.pending.add(id);
    try {
      await make().catch((error: unknown) => {
        // The record exists (checked before), so a missing source is storage gone astray, not a bad id.
        if (!isSnapflowError(error, ErrorNames.NotFound)) throw error;
        throw new SnapflowError(ErrorNames.Storage, `the storage behind ${id}'s source is missing: ${error.message}`, {
          action: 'See GET /health for what is missing; restore it or delete the record.',
        });
      });
      await this.commit(record);
    } finally {
      this.pending.delete(id);
    }
  }

  /**
   * Removes storage whose record is already gone. Failure is logged, not thrown: the record's deletion
   * stands, health reports the leftover and the next start removes it.
   */
  private async removeStorage(thing: 'dataset' | 'snapshot', id: string): Promise<void> {
    this.pending.add(id);
    try {
      await (thing === 'dataset' ? this.backend.deleteDataset(id) : this.backend.deleteSnapshot(id));
    } catch (error) {
      if (isSnapflowError(error, ErrorNames.NotFound)) return;
      this.log('warn', `${thing} ${id} was deleted but its storage could not be removed`, describeError(error));
    } finally {
      this.pending.delete(id);
    }
  }

  private async removeOrphan(thing: string, id: string, remove: () => Promise<void>): Promise<boolean> {
    try {
      await remove();
      this.log('info', `removed ${thing} ${id}: storage that no record refers to`, { id });
      return true;
    } catch (error) {
      this.log('error', `could not remove orphan ${thing} ${id}`, describeError(error));
      return false;
    }
  }

  private async commit(change: (doc: EngineDocument) => EngineDocument): Promise<void> {
    await this.store.write(change(this.store.document));
  }

  private async findInconsistencies(): Promise<EngineInconsistency[]> {
    const doc = this.store.document;
    const listing = await this.backend.list();
    const datasets = new Set(listing.datasets);
    const snapshots = new Set(listing.snapshots);
    const records = new Set([...doc.dsources, ...doc.vdbs, ...doc.snapshots].map((record) => record.id));
    const problems: EngineInconsistency[] = [];
    const missing = (id: string, label: string, path: string) =>
      problems.push({
        kind: 'missing-storage',
        id,
        message: `${label} ${id} is recorded but its storage at ${path} is missing`,
      });
    const dangling = (id: string, message: string) => problems.push({ kind: 'dangling-reference', id, message });
    const has = <T extends { id: string }>(list: T[], id: string) => list.some((record) => record.id === id);

    for (const dsource of doc.dsources) {
      if (!datasets.has(dsource.id) && !this.pending.has(dsource.id))
        missing(dsource.id, 'dSource', this.backend.datasetPath(dsource.id));
      if (!has(doc.sourceConfigs, dsource.sourceConfigId))
        dangling(dsource.id, `dSource ${dsource.id} refers to source config ${dsource.sourceConfigId}, which is gone`);
      if (!has(doc.environments, dsource.stagingEnvironmentId))
        dangling(
          dsource.id,
          `dSource ${dsource.id} refers to environment ${dsource.stagingEnvironmentId}, which is gone`,
        );
    }
    for (const vdb of doc.vdbs) {
      if (!datasets.has(vdb.id) && !this.pending.has(vdb.id)) missing(vdb.id, 'VDB', this.backend.datasetPath(vdb.id));
      if (!has(doc.snapshots, vdb.parentSnapshotId))
        dangling(vdb.id, `VDB ${vdb.id} refers to snapshot ${vdb.parentSnapshotId}, which is gone`);
      if (!has(doc.environments, vdb.environmentId))
        dangling(vdb.id, `VDB ${vdb.id} refers to environment ${vdb.environmentId}, which is gone`);
    }
    for (const snapshot of doc.snapshots) {
      if (!snapshots.has(snapshot.id) && !this.pending.has(snapshot.id))
        missing(snapshot.id, 'snapshot', this.backend.snapshotPath(snapshot.id));
      if (!records.has(snapshot.datasetId))
        dangling(snapshot.id, `snapshot ${snapshot.id} refers to dataset ${snapshot.datasetId}, which is gone`);
    }
    for (const sourceConfig of doc.sourceConfigs) {
      if (!has(doc.environments, sourceConfig.environmentId))
        dangling(
          sourceConfig.id,
          `source config ${sourceConfig.id} refers to environment ${sourceConfig.environmentId}, which is gone`,
        );
    }
    const orphans = [...listing.datasets, ...listing.snapshots].filter(
      (id) => !records.has(id) && !this.pending.has(id),
    );
    for (const id of orphans)
      problems.push({
        kind: 'orphan-storage',
        id,
        message: `storage ${id} belongs to no record; the next start removes it`,
      });
    return problems;
  }

  /** Refuses a mount location that overlaps one in use on the same host, or the engine's own storage. */
  private checkMountFree(environment: Environment, mountLocation: string, field: string): void {
    if (pathsOverlap(mountLocation, this.backend.root))
      throw new SnapflowError(
        ErrorNames.Conflict,
        `${field} ${mountLocation} overlaps the engine's storage at ${this.backend.root}`,
        { action: 'Choose a mount location outside the engine root.', field },
      );
    const doc = this.store.document;
    const sameHost = (environmentId: string) =>
      doc.environments.find((candidate) => candidate.id === environmentId)?.hostId === environment.hostId;
    const users = [
      ...doc.dsources.map((dsource) => ({
        label: `the staging mount of dSource ${dsource.id}`,
        environmentId: dsource.stagingEnvironmentId,
        path: dsource.parameters.mountLocation,
      })),
      ...doc.vdbs.map((vdb) => ({
        label: `the mount of VDB ${vdb.id}`,
        environmentId: vdb.environmentId,
        path: vdb.parameters.mountLocation,
      })),
    ];
    const clash = users.find((user) => sameHost(user.environmentId) && pathsOverlap(user.path, mountLocation));
    if (clash === undefined) return;
    throw new SnapflowError(
      ErrorNames.Conflict,
      `${field} ${mountLocation} overlaps ${clash.path}, ${clash.label} on host ${environment.hostId}`,
      { action: 'Choose a mount location that no other dataset on that host uses, nor lies inside.', field },
    );
  }

  private environment(id: string, field?: string): Environment {
    return found(this.store.document.environments, id, 'environment', 'GET /environments', field);
  }

  private sourceConfig(id: string, field?: string): SourceConfig {
    return found(this.store.document.sourceConfigs, id, 'source config', 'the source config ids you created', field);
  }

  private dsource(id: string): DSource {
    return found(this.store.document.dsources, id, 'dSource', 'the dSource ids you created');
  }

  private snapshot(id: string): Snapshot {
    return found(this.store.document.snapshots, id, 'snapshot', 'GET /snapshots');
  }

  private vdb(id: string): Vdb {
    return found(this.store.document.vdbs, id, 'VDB', 'GET /vdbs');
  }

  /** A dSource or a VDB: the records that own storage. */
  private dataset(id: string): DSource | Vdb {
    const doc = this.store.document;
    const record = doc.dsources.find((dsource) => dsource.id === id) ?? doc.vdbs.find((vdb) => vdb.id === id);
    if (record !== undefined) return record;
    throw new SnapflowError(ErrorNames.NotFound, `dataset ${id} is neither a dSource nor a VDB`, {
      action: 'Give the id of a dSource or of a VDB (list VDBs with GET /vdbs).',
      field: 'datasetId',
    });
  }

  /** The snapshot as stored, with its path as it is on this machine now. */
  private withPath(snapshot: Snapshot): Snapshot {
    return { ...copy(snapshot), path: this.backend.snapshotPath(snapshot.id) };
  }

  private timestamp(): string {
    return this.now().toISOString();
  }
}

/** Runs async functions one at a time, in call order. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(body: () => Promise<T>): Promise<T> {
    const result = this.tail.then(body);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

function newId(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString('hex')}`;
}

function found<T extends { id: string }>(list: T[], id: string, label: string, lister: string, field?: string): T {
  const record = list.find((candidate) => candidate.id === id);
  if (record !== undefined) return record;
  throw new SnapflowError(ErrorNames.NotFound, `${label} ${id} does not exist`, {
    action: `Check the id; see ${lister} for existing ones.`,
    ...(field === undefined ? {} : { field }),
  });
}

function checkMountLocation(mountLocation: string, field: string): void {
  const problem = mountLocationProblem(mountLocation);
  if (problem === undefined) return;
  throw new SnapflowError(ErrorNames.Validation, `${field} ${problem}: ${mountLocation}`, {
    action: `Give ${field} as a directory outside the system directories, such as /mnt/snapflow/data.`,
    field,
  });
}

/** Records go out as copies, so no caller can change the engine's state behind its back. */
function copy<T>(value: T): T {
  return structuredClone(value);
}

function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  return {
    error: error.message,
    ...(isSnapflowError(error) && error.output !== undefined ? { output: error.output } : {}),
  };
}
