import { realpath } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { type MountEntry, mountsOfTree, readMountTable } from '../adapters/mount-table';
import { ErrorNames, isSnapflowError, SnapflowError } from '../core/errors';
import { newId } from '../core/ids';
import type {
  Dependent,
  DSource,
  Environment,
  EventSource,
  ExportSpec,
  Lease,
  Provenance,
  Snapshot,
  SourceConfig,
  Space,
  Timeflow,
  TimeflowKind,
  Vdb,
  VdbStatus,
} from '../core/model';
import { mountLocationProblem, type PathInUse, pathClash } from '../core/paths';
import type { CreateEnvironmentInput, EngineApi } from '../core/ports';
import type {
  LinkedSourceParameters,
  SnapshotDefinition,
  SourceConfigDefinition,
  VirtualSourceParameters,
} from '../plugins/directory-tree/schemas';
import {
  type AcquireLeaseRequest,
  acquireLeaseBody,
  type CreateEnvironmentRequest,
  type CreateSourceConfigRequest,
  type CreateTimeflowRequest,
  createDSourceBody,
  createEnvironmentBody,
  createSourceConfigBody,
  createTimeflowBody,
  createVdbBody,
  DEFAULT_SCRATCH_PATH,
  type ExportDatasetRequest,
  exportDatasetBody,
  idParams,
  type ReleaseLeaseQuery,
  releaseLeaseQuery,
  SSH_HOST_ID_PREFIX,
  type SwitchTimeflowRequest,
  snapshotDatasetBody,
  switchTimeflowBody,
  type UpdateDatasetSettingsRequest,
  type UpdateVdbRequest,
  updateDatasetSettingsBody,
  updateVdbBody,
} from './api-schemas';
import type { StorageBackend, StorageBackendKind, StorageTree } from './backends/storage-backend';
import {
  defaultDSourcePolicy,
  defaultVdbPolicy,
  parseEventSources,
  parsePolicy,
  parseRetentionChange,
  resolvePolicy,
} from './dataset-settings';
import type { EngineDocument, MetadataStore, PendingMigration, SnapshotRecord, TimeflowRecord } from './metadata-store';
import { validateRequest } from './validate-request';

/** Something the engine's metadata and its storage disagree on. */
export interface EngineInconsistency {
  /**
   * `missing-storage`: a record whose storage is gone (kept, for a human to decide);
   * `orphan-storage`: storage no record refers to (set aside at the next start, see {@link QuarantinedStorage});
   * `dangling-reference`: a record referring to a record that does not exist.
   */
  kind: 'missing-storage' | 'orphan-storage' | 'dangling-reference';
  /** The record or storage id. */
  id: string;
  message: string;
}

/**
 * Storage that no record referred to at a start, set aside rather than deleted: a crash between making
 * storage and recording it leaves such storage, and so does restoring an older metadata file, when it
 * may hold the only copy of data newer than the backup. Nothing refers to it or reuses it; it stays
 * until a person removes it with the command in `message` (the engine never does).
 */
export interface QuarantinedStorage {
  kind: 'timeflow' | 'snapshot';
  /** The id the storage had. */
  id: string;
  /** Where it is now, on the engine machine. */
  path: string;
  message: string;
}

/** What `GET /health` answers. */
export interface EngineHealth {
  /** `degraded` while metadata and storage disagree (see `inconsistencies`); quarantined storage does not count. */
  status: 'ok' | 'degraded';
  backend: { kind: StorageBackendKind; reason: string };
  inconsistencies: EngineInconsistency[];
  quarantined: QuarantinedStorage[];
}

/** What {@link Engine.reconcile} did at start-up. */
export interface ReconcileReport {
  /** Present when the metadata was of an older version and has been migrated (storage renamed first). */
  migrated?: PendingMigration;
  /** Timeflow storage no record referred to, set aside (see {@link QuarantinedStorage}). */
  quarantinedTimeflows: string[];
  /** Snapshot storage no record referred to, set aside. */
  quarantinedSnapshots: string[];
  inconsistencies: EngineInconsistency[];
}

/** The mounts on the engine machine, which deletes check; hosts share the machine in local mode. */
export type MountTableReader = () => Promise<MountEntry[]>;

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
  /** @default reads /proc/self/mountinfo */
  mounts?: MountTableReader;
  /**
   * Whether `ssh-…` hosts may be registered: only local mode has a host agent that reaches them; on AWS
   * every host is an SSM managed instance.
   * @default false
   */
  sshHosts?: boolean;
}

/** How each timeflow kind reads in a dependent's reason: "VDB … was refreshed from snapshot …". */
const CLONED_AS: Readonly<Record<TimeflowKind, string>> = {
  link: 'linked',
  provision: 'provisioned',
  refresh: 'refreshed',
  rollback: 'rolled back',
};

/** Any record listDependents and getSpace accept, found by id. */
type Target =
  | { kind: 'environment'; record: Environment }
  | { kind: 'sourceConfig'; record: SourceConfig }
  | { kind: 'dataset'; record: DSource | Vdb; label: DatasetLabel }
  | { kind: 'timeflow'; record: TimeflowRecord }
  | { kind: 'snapshot'; record: SnapshotRecord };

type DatasetLabel = 'dSource' | 'VDB';

/**
 * The engine: the system of record for environments, source configs, dSources, VDBs, their timeflows
 * and snapshots, over a storage backend and a metadata store. Storage belongs to timeflows (a
 * dataset's current tree) and snapshots. Mutations run one at a time. Creating makes storage first and
 * records it second; deleting unrecords first and removes storage second. A crash between the two
 * leaves only storage no record refers to, which {@link reconcile} sets aside at the next start.
 * Storage that is mounted anywhere on the engine machine is never deleted.
 */
export class Engine implements EngineApi {
  private readonly backend: StorageBackend;
  private readonly backendReason: string;
  private readonly store: MetadataStore;
  private readonly log: EngineLog;
  private readonly now: () => Date;
  private readonly mounts: MountTableReader;
  private readonly sshHosts: boolean;
  private readonly mutex = new Mutex();
  /** Storage ids being created or removed right now, so health does not call them orphans. */
  private readonly pending = new Set<string>();

  constructor(options: EngineOptions) {
    this.backend = options.backend;
    this.backendReason = options.backendReason;
    this.store = options.store;
    this.log = options.log ?? (() => undefined);
    this.now = options.now ?? (() => new Date());
    this.mounts = options.mounts ?? (() => readMountTable());
    this.sshHosts = options.sshHosts ?? false;
  }

  /**
   * Brings storage in line with the metadata: finishes a migration of older metadata (renaming storage,
   * then writing the new document), sets aside storage no record refers to (see
   * {@link QuarantinedStorage}; never deletes it) and reports records whose storage is missing, which it
   * keeps.
   *
   * @throws StorageError when there is no metadata file but the pool holds data: the data would
   *   otherwise all be removed as unreferenced; or when a migration finds storage under both names
   */
  async reconcile(): Promise<ReconcileReport> {
    return this.mutex.run(async () => {
      if (this.store.isNew) {
        const listing = await this.backend.list();
        if (listing.datasets.length + listing.snapshots.length > 0)
          throw new SnapflowError(
            ErrorNames.Storage,
            `the storage pool at ${this.backend.root} holds ${listing.datasets.length} timeflows and ` +
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
      const migrated = this.store.pendingMigration;
      if (migrated !== undefined) await this.migrate(migrated);
      const listing = await this.backend.list();
      const doc = this.store.document;
      const timeflowIds = new Set(doc.timeflows.map((record) => record.id));
      const snapshotIds = new Set(doc.snapshots.map((record) => record.id));
      const quarantinedTimeflows: string[] = [];
      const quarantinedSnapshots: string[] = [];
      for (const id of listing.datasets.filter((id) => !timeflowIds.has(id)))
        if (await this.setAside('dataset', id)) quarantinedTimeflows.push(id);
      for (const id of listing.snapshots.filter((id) => !snapshotIds.has(id)))
        if (await this.setAside('snapshot', id)) quarantinedSnapshots.push(id);
      const inconsistencies = await this.findInconsistencies();
      for (const problem of inconsistencies) this.log('warn', problem.message, { ...problem });
      return {
        ...(migrated === undefined ? {} : { migrated }),
        quarantinedTimeflows,
        quarantinedSnapshots,
        inconsistencies,
      };
    });
  }

  /** The backend in use, every disagreement between metadata and storage right now, and quarantined storage. */
  async health(): Promise<EngineHealth> {
    const inconsistencies = await this.findInconsistencies();
    const quarantined = (await this.backend.listQuarantined()).map(
      ({ kind, id, path }): QuarantinedStorage => ({
        kind: kind === 'dataset' ? 'timeflow' : 'snapshot',
        id,
        path,
        message:
          `storage of ${kind === 'dataset' ? 'timeflow' : 'snapshot'} ${id} was set aside at ${path}, as no record ` +
          'referred to it at a start. A crash between making storage and recording it leaves such storage; so does ' +
          'restoring an older metadata file, and then it may hold data newer than the backup. Once nothing needs ' +
          `it, remove it with: ${this.backend.removalCommand(path)}`,
      }),
    );
    return {
      status: inconsistencies.length === 0 ? 'ok' : 'degraded',
      backend: { kind: this.backend.kind, reason: this.backendReason },
      inconsistencies,
      quarantined,
    };
  }

  /** Resolves once every mutation started so far has finished; stop accepting requests first. */
  async drain(): Promise<void> {
    await this.mutex.run(async () => undefined);
  }

  async createEnvironment(input: CreateEnvironmentInput): Promise<Environment> {
    const request = validateRequest<CreateEnvironmentRequest>(createEnvironmentBody, input);
    this.refuseSshMismatch(request);
    return this.mutex.run(async () => {
      const scratchPath = request.scratchPath ?? DEFAULT_SCRATCH_PATH;
      const ssh = request.ssh === undefined ? undefined : { ...request.ssh, port: request.ssh.port ?? 22 };
      const existing = this.store.document.environments.find((record) => record.hostId === request.hostId);
      if (existing !== undefined) {
        // The same registration again (a retry) answers the environment it made.
        const same =
          existing.name === request.name &&
          existing.scratchPath === scratchPath &&
          isDeepStrictEqual(existing.ssh, ssh) &&
          isDeepStrictEqual(existing.sshClient, request.sshClient);
        if (same) return copy(existing);
        throw new SnapflowError(
          ErrorNames.Conflict,
          `hostId ${request.hostId} is already registered as environment ${existing.id} (${JSON.stringify(existing.name)}, scratch path ${existing.scratchPath})`,
          {
            action:
              `Use environment ${existing.id} (GET /environments/${existing.id}); one host is one environment. ` +
              `To register it anew with other settings, delete it first (DELETE /environments/${existing.id}).`,
            field: 'hostId',
          },
        );
      }
      const environment: Environment = {
        id: newId('environment'),
        name: request.name,
        hostId: request.hostId,
        scratchPath,
        ...(ssh === undefined ? {} : { ssh }),
        ...(request.sshClient === undefined ? {} : { sshClient: request.sshClient }),
        createdAt: this.timestamp(),
      };
      await this.commit((doc) => ({ ...doc, environments: [...doc.environments, environment] }));
      return copy(environment);
    });
  }

  /** `ssh` goes with an `ssh-…` host id and nothing else, and only where SSH hosts are served. */
  private refuseSshMismatch(request: CreateEnvironmentRequest): void {
    const sshHost = request.hostId.startsWith(SSH_HOST_ID_PREFIX);
    if (sshHost && !this.sshHosts) {
      throw new SnapflowError(
        ErrorNames.Validation,
        `hostId ${request.hostId} names an SSH host, which only local mode reaches`,
        {
          field: 'hostId',
          action:
            'Register the host by its SSM managed-instance id (i-… or mi-…); on AWS, Run Command reaches every host.',
        },
      );
    }
    if (sshHost && request.ssh === undefined) {
      throw new SnapflowError(ErrorNames.Validation, `hostId ${request.hostId} names an SSH host but ssh is missing`, {
        field: 'ssh',
        action: 'Give ssh: the address, user, identityFile and knownHostsFile with which to reach the host.',
      });
    }
    if (!sshHost && request.ssh !== undefined) {
      throw new SnapflowError(ErrorNames.Validation, `ssh is given, but hostId ${request.hostId} is not an SSH host`, {
        field: 'ssh',
        action: `Leave ssh out, or register the host as ${SSH_HOST_ID_PREFIX}NAME to reach it over SSH.`,
      });
    }
  }

  async getEnvironment(id: string): Promise<Environment> {
    return copy(this.environment(id));
  }

  async listEnvironments(): Promise<Environment[]> {
    return copy(this.store.document.environments);
  }

  async deleteEnvironment(id: string): Promise<void> {
    return this.mutex.run(async () => {
      const environment = this.environment(id);
      this.refuseDependents('environment', id, this.dependents({ kind: 'environment', record: environment }));
      await this.commit((doc) => ({ ...doc, environments: doc.environments.filter((record) => record.id !== id) }));
    });
  }

  async createSourceConfig(input: { environmentId: string; name: string; path: string }): Promise<SourceConfig> {
    const request = validateRequest<CreateSourceConfigRequest>(createSourceConfigBody, input);
    return this.mutex.run(async () => {
      this.environment(request.environmentId, 'environmentId');
      const sourceConfig: SourceConfig = {
        id: newId('sourceConfig'),
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

  async listSourceConfigs(): Promise<SourceConfig[]> {
    return copy(this.store.document.sourceConfigs);
  }

  async deleteSourceConfig(id: string): Promise<void> {
    return this.mutex.run(async () => {
      const sourceConfig = this.sourceConfig(id);
      this.refuseDependents('source config', id, this.dependents({ kind: 'sourceConfig', record: sourceConfig }));
      await this.commit((doc) => ({ ...doc, sourceConfigs: doc.sourceConfigs.filter((record) => record.id !== id) }));
    });
  }

  async createDSource(input: {
    id?: string;
    name: string;
    sourceConfigId: string;
    stagingEnvironmentId: string;
    parameters: LinkedSourceParameters;
    policy?: unknown;
    eventSources?: unknown;
  }): Promise<DSource> {
    const {
      policy: policyInput,
      eventSources: eventSourcesInput,
      ...request
    } = validateRequest<Omit<typeof input, 'eventSources'> & { eventSources?: EventSource[] }>(
      createDSourceBody,
      input,
      { parameters: 'linkedSource' },
    );
    const policy = resolvePolicy(policyInput, defaultDSourcePolicy);
    const eventSources = eventSourcesInput === undefined ? [] : parseEventSources(eventSourcesInput);
    const field = 'linkedSource.mountLocation';
    checkMountLocation(request.parameters.mountLocation, field);
    return this.mutex.run(async () => {
      const { id: chosenId, ...wanted } = request;
      // The resolved policy is compared, so leaving it out and giving the default are the same input.
      const existing = this.replayed(this.store.document.dsources, chosenId, 'dSource', (dsource) =>
        isDeepStrictEqual(
          { ...wanted, policy, eventSources },
          {
            name: dsource.name,
            sourceConfigId: dsource.sourceConfigId,
            stagingEnvironmentId: dsource.stagingEnvironmentId,
            parameters: dsource.parameters,
            policy: dsource.policy,
            eventSources: dsource.eventSources,
          },
        ),
      );
      if (existing !== undefined) return copy(existing);
      this.sourceConfig(request.sourceConfigId, 'sourceConfigId');
      const staging = this.environment(request.stagingEnvironmentId, 'stagingEnvironmentId');
      this.checkMountFree(staging, request.parameters.mountLocation, field);
      const createdAt = this.timestamp();
      const dsource: DSource = {
        id: chosenId ?? newId('dsource'),
        name: request.name,
        sourceConfigId: request.sourceConfigId,
        stagingEnvironmentId: request.stagingEnvironmentId,
        parameters: request.parameters,
        currentTimeflowId: newId('timeflow'),
        policy,
        eventSources,
        createdAt,
      };
      const timeflow: TimeflowRecord = {
        id: dsource.currentTimeflowId,
        datasetId: dsource.id,
        kind: 'link',
        createdAt,
      };
      await this.createStorage(
        timeflow.id,
        () => this.backend.createDataset(timeflow.id),
        (doc) => ({ ...doc, dsources: [...doc.dsources, dsource], timeflows: [...doc.timeflows, timeflow] }),
      );
      return copy(dsource);
    });
  }

  async updateDatasetSettings(
    datasetId: string,
    input: { policy?: unknown; eventSources?: unknown },
  ): Promise<DSource | Vdb> {
    const request = validateRequest<UpdateDatasetSettingsRequest>(updateDatasetSettingsBody, input);
    if (request.policy === undefined && request.eventSources === undefined)
      throw new SnapflowError(ErrorNames.Validation, 'the settings update names no setting', {
        action: 'Give policy, eventSources (dSources only) or both.',
      });
    const policy = request.policy === undefined ? undefined : parsePolicy(request.policy);
    const eventSources = request.eventSources === undefined ? undefined : parseEventSources(request.eventSources);
    return this.mutex.run(async () => {
      const dataset = this.dataset(datasetId);
      const vdb = this.store.document.vdbs.find((record) => record.id === dataset.id);
      if (vdb !== undefined) {
        if (eventSources !== undefined)
          throw new SnapflowError(
            ErrorNames.Validation,
            `eventSources apply to dSources only, and ${datasetId} is a VDB, which is snapshotted, never synced`,
            {
              action: 'Leave eventSources out for a VDB; give them to the dSource it comes from.',
              field: 'eventSources',
            },
          );
        const updated: Vdb = { ...vdb, ...(policy === undefined ? {} : { policy }) };
        await this.commit((doc) => ({
          ...doc,
          vdbs: doc.vdbs.map((record) => (record.id === vdb.id ? updated : record)),
        }));
        return copy(updated);
      }
      const updated: DSource = {
        ...this.dsource(datasetId),
        ...(policy === undefined ? {} : { policy }),
        ...(eventSources === undefined ? {} : { eventSources }),
      };
      await this.commit((doc) => ({
        ...doc,
        dsources: doc.dsources.map((record) => (record.id === datasetId ? updated : record)),
      }));
      return copy(updated);
    });
  }

  async getDSource(id: string): Promise<DSource> {
    return copy(this.dsource(id));
  }

  async listDSources(): Promise<DSource[]> {
    return copy(this.store.document.dsources);
  }

  async deleteDSource(id: string): Promise<void> {
    return this.mutex.run(async () => {
      await this.deleteDataset(this.dsource(id), 'dSource');
    });
  }

  async exportDataset(datasetId: string, input: { readOnly: boolean }): Promise<ExportSpec> {
    const request = validateRequest<ExportDatasetRequest>(exportDatasetBody, input);
    // In the mutex, so that no delete or timeflow switch comes between the lookup and the answer.
    return this.mutex.run(async () => {
      const dataset = this.dataset(datasetId);
      const source = await this.existingStorage('dataset', dataset.currentTimeflowId, 'timeflow');
      return { datasetId, kind: 'bind', source, readOnly: request.readOnly };
    });
  }

  async exportSnapshot(snapshotId: string): Promise<ExportSpec> {
    return this.mutex.run(async () => {
      this.snapshot(snapshotId);
      const source = await this.existingStorage('snapshot', snapshotId, 'snapshot');
      return { datasetId: snapshotId, kind: 'bind', source, readOnly: true };
    });
  }

  async snapshotDataset(
    datasetId: string,
    input: { provenance: Provenance; metadata: SnapshotDefinition; requestToken?: string },
  ): Promise<Snapshot> {
    const request = validateRequest<typeof input>(snapshotDatasetBody, input);
    return this.mutex.run(async () => {
      const { currentTimeflowId } = this.dataset(datasetId);
      const { requestToken } = request;
      const earlier =
        requestToken === undefined
          ? undefined
          : this.store.document.snapshots.find((snapshot) => snapshot.requestToken === requestToken);
      if (earlier !== undefined) {
        if (earlier.datasetId === datasetId) return this.withPath(earlier);
        throw new SnapflowError(
          ErrorNames.Conflict,
          `requestToken was already used for snapshot ${earlier.id} of dataset ${earlier.datasetId}, not of ${datasetId}`,
          {
            action: 'Send a request token of its own with each snapshot request (e.g. the execution and state asking).',
            field: 'requestToken',
          },
        );
      }
      const id = newId('snapshot');
      const snapshot: SnapshotRecord = {
        id,
        datasetId,
        timeflowId: currentTimeflowId,
        createdAt: this.timestamp(),
        metadata: request.metadata,
        provenance: request.provenance,
        ...(requestToken === undefined ? {} : { requestToken }),
      };
      await this.createStorage(
        id,
        () => this.backend.snapshot(currentTimeflowId, id),
        (doc) => ({ ...doc, snapshots: [...doc.snapshots, snapshot] }),
      );
      return this.withPath(snapshot);
    });
  }

  async getSnapshot(id: string): Promise<Snapshot> {
    return this.withPath(this.snapshot(id));
  }

  async listSnapshots(filter: { datasetId?: string; timeflowId?: string } = {}): Promise<Snapshot[]> {
    const { datasetId, timeflowId } = filter;
    if (datasetId !== undefined) this.dataset(datasetId);
    if (timeflowId !== undefined) this.timeflow(timeflowId, 'timeflowId');
    return this.store.document.snapshots
      .filter((snapshot) => datasetId === undefined || snapshot.datasetId === datasetId)
      .filter((snapshot) => timeflowId === undefined || snapshot.timeflowId === timeflowId)
      .map((snapshot) => this.withPath(snapshot));
  }

  async deleteSnapshot(id: string): Promise<void> {
    return this.mutex.run(async () => {
      this.refuseDependents('snapshot', id, this.dependents({ kind: 'snapshot', record: this.snapshot(id) }));
      await this.refuseMounted([{ thing: 'snapshot', id }]);
      await this.commit((doc) => ({ ...doc, snapshots: doc.snapshots.filter((snapshot) => snapshot.id !== id) }));
      await this.removeStorage('snapshot', id);
    });
  }

  async updateSnapshot(id: string, input: { expiresAt?: string | null; retainForever?: boolean }): Promise<Snapshot> {
    const change = parseRetentionChange(input);
    return this.mutex.run(async () => {
      const { expiresAt, retainForever, ...rest } = this.snapshot(id);
      // Absent means no expiry and not retained forever, so `null` and `false` remove the fields.
      const expiry = change.expiresAt === undefined ? expiresAt : (change.expiresAt ?? undefined);
      const forever = change.retainForever === undefined ? retainForever : change.retainForever;
      const updated: SnapshotRecord = {
        ...rest,
        ...(expiry === undefined ? {} : { expiresAt: expiry }),
        ...(forever === true ? { retainForever: true } : {}),
      };
      await this.commit((doc) => ({
        ...doc,
        snapshots: doc.snapshots.map((snapshot) => (snapshot.id === id ? updated : snapshot)),
      }));
      return this.withPath(updated);
    });
  }

  async createVdb(input: {
    id?: string;
    name: string;
    snapshotId: string;
    environmentId: string;
    parameters: VirtualSourceParameters;
    policy?: unknown;
  }): Promise<Vdb> {
    const { policy: policyInput, ...request } = validateRequest<typeof input>(createVdbBody, input, {
      parameters: 'virtualSource',
    });
    const policy = resolvePolicy(policyInput, defaultVdbPolicy);
    const field = 'virtualSource.mountLocation';
    checkMountLocation(request.parameters.mountLocation, field);
    return this.mutex.run(async () => {
      const { id: chosenId, ...wanted } = request;
      const existing = this.replayed(this.store.document.vdbs, chosenId, 'VDB', (vdb) =>
        isDeepStrictEqual(
          { ...wanted, policy },
          {
            name: vdb.name,
            snapshotId: this.provisionedFrom(vdb),
            environmentId: vdb.environmentId,
            parameters: vdb.parameters,
            policy: vdb.policy,
          },
        ),
      );
      if (existing !== undefined) return copy(existing);
      const parent = this.snapshot(request.snapshotId, 'snapshotId');
      const environment = this.environment(request.environmentId, 'environmentId');
      this.checkMountFree(environment, request.parameters.mountLocation, field);
      const createdAt = this.timestamp();
      const vdb: Vdb = {
        id: chosenId ?? newId('vdb'),
        name: request.name,
        parentDatasetId: parent.datasetId,
        parentSnapshotId: parent.id,
        environmentId: environment.id,
        parameters: request.parameters,
        status: 'PROVISIONING',
        enabled: true,
        currentTimeflowId: newId('timeflow'),
        policy,
        createdAt,
      };
      const timeflow: TimeflowRecord = {
        id: vdb.currentTimeflowId,
        datasetId: vdb.id,
        kind: 'provision',
        parentSnapshotId: parent.id,
        createdAt,
      };
      await this.createStorage(
        timeflow.id,
        () => this.backend.clone(parent.id, timeflow.id),
        (doc) => ({ ...doc, vdbs: [...doc.vdbs, vdb], timeflows: [...doc.timeflows, timeflow] }),
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

  async updateVdb(
    id: string,
    input: { status?: VdbStatus; enabled?: boolean; sourceConfig?: SourceConfigDefinition },
  ): Promise<Vdb> {
    const request = validateRequest<UpdateVdbRequest>(updateVdbBody, input);
    return this.mutex.run(async () => {
      const updated: Vdb = { ...this.vdb(id) };
      if (request.status !== undefined) updated.status = request.status;
      if (request.enabled !== undefined) updated.enabled = request.enabled;
      if (request.sourceConfig !== undefined) updated.sourceConfig = request.sourceConfig;
      await this.commit((doc) => ({ ...doc, vdbs: doc.vdbs.map((vdb) => (vdb.id === id ? updated : vdb)) }));
      return copy(updated);
    });
  }

  async deleteVdb(id: string): Promise<void> {
    return this.mutex.run(async () => {
      const vdb = this.vdb(id);
      if (vdb.status === 'RUNNING')
        throw new SnapflowError(
          ErrorNames.Conflict,
          `VDB ${id} is RUNNING: it is mounted at ${vdb.parameters.mountLocation} on environment ${vdb.environmentId}`,
          {
            action:
              `Stop it first (POST /vdbs/${id}/stop unmounts it and records it STOPPED), or delete it with the ` +
              `delete-vdb workflow (DELETE /vdbs/${id} on the Snapflow API), which unmounts it before deleting it.`,
            field: 'id',
          },
        );
      await this.deleteDataset(vdb, 'VDB');
    });
  }

  async listTimeflows(filter: { datasetId?: string } = {}): Promise<Timeflow[]> {
    const { datasetId } = filter;
    if (datasetId !== undefined) this.dataset(datasetId);
    return this.store.document.timeflows
      .filter((timeflow) => datasetId === undefined || timeflow.datasetId === datasetId)
      .map((timeflow) => this.withTimeflowPath(timeflow));
  }

  async getTimeflow(id: string): Promise<Timeflow> {
    return this.withTimeflowPath(this.timeflow(id));
  }

  async createTimeflow(
    vdbId: string,
    input: { snapshotId: string; kind: 'refresh' | 'rollback' },
  ): Promise<{ vdb: Vdb; timeflow: Timeflow; previousTimeflowId: string }> {
    const request = validateRequest<CreateTimeflowRequest>(createTimeflowBody, input);
    return this.mutex.run(async () => {
      const vdb = this.vdb(vdbId);
      const snapshot = this.snapshot(request.snapshotId, 'snapshotId');
      checkTimeflowSource(vdb, snapshot, request.kind);
      const timeflow: TimeflowRecord = {
        id: newId('timeflow'),
        datasetId: vdb.id,
        kind: request.kind,
        parentSnapshotId: snapshot.id,
        createdAt: this.timestamp(),
      };
      const updated: Vdb = { ...vdb, currentTimeflowId: timeflow.id, parentSnapshotId: snapshot.id };
      await this.createStorage(
        timeflow.id,
        () => this.backend.clone(snapshot.id, timeflow.id),
        (doc) => ({
          ...doc,
          timeflows: [...doc.timeflows, timeflow],
          vdbs: doc.vdbs.map((record) => (record.id === vdb.id ? updated : record)),
        }),
      );
      return {
        vdb: copy(updated),
        timeflow: this.withTimeflowPath(timeflow),
        previousTimeflowId: vdb.currentTimeflowId,
      };
    });
  }

  async switchTimeflow(vdbId: string, timeflowId: string): Promise<Vdb> {
    validateRequest<SwitchTimeflowRequest>(switchTimeflowBody, { timeflowId });
    return this.mutex.run(async () => {
      const vdb = this.vdb(vdbId);
      const timeflow = this.timeflow(timeflowId, 'timeflowId');
      if (timeflow.datasetId !== vdb.id)
        throw new SnapflowError(
          ErrorNames.Validation,
          `timeflowId ${timeflowId} is a timeflow of ${timeflow.datasetId}, not of VDB ${vdb.id}`,
          { action: `Give one of the VDB's own timeflows (GET /timeflows?datasetId=${vdb.id}).`, field: 'timeflowId' },
        );
      // Caught here rather than as a puzzling mount failure once the VDB is started on it.
      await this.existingStorage('dataset', timeflow.id, 'timeflow');
      const updated: Vdb = {
        ...vdb,
        currentTimeflowId: timeflow.id,
        ...(timeflow.parentSnapshotId === undefined ? {} : { parentSnapshotId: timeflow.parentSnapshotId }),
      };
      await this.commit((doc) => ({
        ...doc,
        vdbs: doc.vdbs.map((record) => (record.id === vdb.id ? updated : record)),
      }));
      return copy(updated);
    });
  }

  async deleteTimeflow(id: string): Promise<void> {
    return this.mutex.run(async () => {
      const timeflow = this.timeflow(id);
      const owner = this.findDataset(timeflow.datasetId);
      if (owner?.record.currentTimeflowId === id)
        throw new SnapflowError(
          ErrorNames.Conflict,
          `timeflow ${id} is the current timeflow of ${owner.label} ${owner.record.id}`,
          {
            action:
              owner.label === 'VDB'
                ? `Switch the VDB to another timeflow first (POST /vdbs/${owner.record.id}/switch-timeflow), ` +
                  `or delete the VDB with all its timeflows (DELETE /vdbs/${owner.record.id}).`
                : `A dSource's timeflow goes with the dSource: delete it (DELETE /dsources/${owner.record.id}).`,
          },
        );
      this.refuseDependents('timeflow', id, this.dependents({ kind: 'timeflow', record: timeflow }));
      const own = this.store.document.snapshots.filter((snapshot) => snapshot.timeflowId === id).map((s) => s.id);
      await this.refuseMounted([
        { thing: 'dataset', id },
        ...own.map((snapshotId) => ({ thing: 'snapshot' as const, id: snapshotId })),
      ]);
      await this.commit((doc) => ({
        ...doc,
        timeflows: doc.timeflows.filter((record) => record.id !== id),
        snapshots: doc.snapshots.filter((snapshot) => snapshot.timeflowId !== id),
      }));
      for (const snapshotId of own) await this.removeStorage('snapshot', snapshotId);
      await this.removeStorage('dataset', id);
    });
  }

  async acquireLease(datasetId: string, input: { holder: string; ttlSeconds: number }): Promise<Lease> {
    const request = validateRequest<AcquireLeaseRequest>(acquireLeaseBody, input);
    return this.mutex.run(async () => {
      this.dataset(datasetId);
      const now = this.now();
      const held = this.liveLeases(now).find((lease) => lease.datasetId === datasetId);
      if (held !== undefined && held.holder !== request.holder)
        throw new SnapflowError(
          ErrorNames.DatasetBusy,
          `dataset ${datasetId} is busy: ${held.holder} holds its lease until ${held.expiresAt}`,
          {
            action: `Wait for ${held.holder} to finish, or for its lease to expire at ${held.expiresAt}, or retry later.`,
            field: 'datasetId',
          },
        );
      const lease: Lease = {
        datasetId,
        holder: request.holder,
        expiresAt: new Date(now.getTime() + request.ttlSeconds * 1000).toISOString(),
      };
      // Expired leases are dropped on the way: they are as good as none.
      await this.commit((doc) => ({
        ...doc,
        leases: [...this.liveLeases(now).filter((record) => record.datasetId !== datasetId), lease],
      }));
      return copy(lease);
    });
  }

  async releaseLease(datasetId: string, holder: string): Promise<void> {
    validateRequest(idParams, { id: datasetId });
    const request = validateRequest<ReleaseLeaseQuery>(releaseLeaseQuery, { holder });
    return this.mutex.run(async () => {
      // No check that the dataset exists: a run releases the lease of a dataset it has just deleted.
      const mine = (lease: Lease) => lease.datasetId === datasetId && lease.holder === request.holder;
      if (!this.store.document.leases.some(mine)) return;
      await this.commit((doc) => ({ ...doc, leases: doc.leases.filter((lease) => !mine(lease)) }));
    });
  }

  /**
   * Space of a snapshot, of a timeflow with its snapshots (what deleting it removes), or of a dataset
   * with all its timeflows and snapshots: the backend's figures summed over those trees. Data a
   * snapshot shares with its own timeflow therefore counts in each tree's total, as shared.
   */
  async getSpace(id: string): Promise<Space> {
    const target = this.target(id, 'no dataset, timeflow or snapshot');
    const doc = this.store.document;
    let trees: StorageTree[];
    if (target.kind === 'snapshot') trees = [{ kind: 'snapshot', id }];
    else if (target.kind === 'timeflow')
      trees = [
        { kind: 'dataset', id },
        ...doc.snapshots.filter((snapshot) => snapshot.timeflowId === id).map(snapshotTree),
      ];
    else if (target.kind === 'dataset')
      trees = [
        ...doc.timeflows
          .filter((timeflow) => timeflow.datasetId === id)
          .map((timeflow): StorageTree => ({ kind: 'dataset', id: timeflow.id })),
        ...doc.snapshots.filter((snapshot) => snapshot.datasetId === id).map(snapshotTree),
      ];
    else
      throw new SnapflowError(
        ErrorNames.Validation,
        `${target.kind === 'environment' ? 'environment' : 'source config'} ${id} holds no storage`,
        { action: 'Give the id of a dSource, VDB, timeflow or snapshot.', field: 'id' },
      );
    const usage = await this.backend.treeUsage(trees).catch((error: unknown) => {
      throw missingStorage(error, id);
    });
    return {
      id,
      totalBytes: usage.totalBytes,
      exclusiveBytes: usage.exclusiveBytes,
      sharedBytes: usage.sharedBytes,
      exact: usage.exact,
    };
  }

  async listDependents(id: string): Promise<Dependent[]> {
    const target = this.target(id, 'no environment, source config, dSource, VDB, timeflow or snapshot');
    const current = target.kind === 'timeflow' ? this.currentOf(target.record) : undefined;
    return [...(current === undefined ? [] : [current]), ...this.dependents(target)];
  }

  /**
   * What stops deleting `target`, besides a timeflow being current: the one source of both
   * DependentsExistError messages and {@link listDependents}, so refusal and listing always agree.
   * Clones are the blockers: timeflows (of other datasets, for a dataset) cloned from the target's
   * snapshots. A clone that is its VDB's current timeflow is reported as the VDB, since only deleting
   * the VDB (or switching it away) frees it.
   */
  private dependents(target: Target): Dependent[] {
    const doc = this.store.document;
    if (target.kind === 'environment') {
      const id = target.record.id;
      return [
        ...doc.sourceConfigs
          .filter((sourceConfig) => sourceConfig.environmentId === id)
          .map(
            (sourceConfig): Dependent => ({
              kind: 'sourceConfig',
              id: sourceConfig.id,
              reason: `source config ${sourceConfig.id} (${sourceConfig.path}) is on environment ${id}`,
            }),
          ),
        ...doc.dsources
          .filter((dsource) => dsource.stagingEnvironmentId === id)
          .map(
            (dsource): Dependent => ({
              kind: 'dsource',
              id: dsource.id,
              reason: `dSource ${dsource.id} stages on environment ${id}`,
            }),
          ),
        ...doc.vdbs
          .filter((vdb) => vdb.environmentId === id)
          .map((vdb): Dependent => ({ kind: 'vdb', id: vdb.id, reason: `VDB ${vdb.id} is on environment ${id}` })),
      ];
    }
    if (target.kind === 'sourceConfig') {
      const id = target.record.id;
      return doc.dsources
        .filter((dsource) => dsource.sourceConfigId === id)
        .map(
          (dsource): Dependent => ({
            kind: 'dsource',
            id: dsource.id,
            reason: `dSource ${dsource.id} was linked from source config ${id}`,
          }),
        );
    }
    const owned = new Set(
      doc.snapshots
        .filter((snapshot) => {
          if (target.kind === 'snapshot') return snapshot.id === target.record.id;
          if (target.kind === 'timeflow') return snapshot.timeflowId === target.record.id;
          return snapshot.datasetId === target.record.id;
        })
        .map((snapshot) => snapshot.id),
    );
    // A dataset's own timeflows (rolled back to its own snapshots) go with it.
    const outside = (timeflow: TimeflowRecord) => target.kind !== 'dataset' || timeflow.datasetId !== target.record.id;
    return doc.timeflows
      .filter((timeflow) => timeflow.parentSnapshotId !== undefined && owned.has(timeflow.parentSnapshotId))
      .filter(outside)
      .map((timeflow) => {
        const from = `snapshot ${timeflow.parentSnapshotId}`;
        const owner = doc.vdbs.find((vdb) => vdb.id === timeflow.datasetId);
        if (owner?.currentTimeflowId === timeflow.id)
          return {
            kind: 'vdb',
            id: owner.id,
            reason: `VDB ${owner.id} was ${CLONED_AS[timeflow.kind]} from ${from} (its current timeflow ${timeflow.id})`,
          };
        return {
          kind: 'timeflow',
          id: timeflow.id,
          reason: `timeflow ${timeflow.id} of VDB ${timeflow.datasetId} was cloned from ${from} (${timeflow.kind})`,
        };
      });
  }

  /** The dataset a timeflow is current for, as what stops deleting it; undefined when it is not current. */
  private currentOf(timeflow: TimeflowRecord): Dependent | undefined {
    const owner = this.findDataset(timeflow.datasetId);
    if (owner === undefined || owner.record.currentTimeflowId !== timeflow.id) return undefined;
    return {
      kind: owner.label === 'VDB' ? 'vdb' : 'dsource',
      id: owner.record.id,
      reason: `timeflow ${timeflow.id} is the current timeflow of ${owner.label} ${owner.record.id}`,
    };
  }

  /** @throws DependentsExistError listing every dependent with its reason, when there are any */
  private refuseDependents(label: string, id: string, dependents: Dependent[]): void {
    if (dependents.length === 0) return;
    throw new SnapflowError(
      ErrorNames.DependentsExist,
      `${label} ${id} cannot be deleted: ${dependents.map((dependent) => dependent.reason).join('; ')}`,
      { action: `Delete what depends on it first (GET /dependents/${id} lists it), then retry.` },
    );
  }

  /** Deletes a dSource or VDB with its timeflows and snapshots, unless others were cloned from those snapshots. */
  private async deleteDataset(dataset: DSource | Vdb, label: DatasetLabel): Promise<void> {
    const { id } = dataset;
    this.refuseDependents(label, id, this.dependents({ kind: 'dataset', record: dataset, label }));
    const doc = this.store.document;
    const snapshots = doc.snapshots.filter((snapshot) => snapshot.datasetId === id).map((snapshot) => snapshot.id);
    const timeflows = doc.timeflows.filter((timeflow) => timeflow.datasetId === id).map((timeflow) => timeflow.id);
    await this.refuseMounted([
      ...timeflows.map((timeflowId) => ({ thing: 'dataset' as const, id: timeflowId })),
      ...snapshots.map((snapshotId) => ({ thing: 'snapshot' as const, id: snapshotId })),
    ]);
    await this.commit((current) => ({
      ...current,
      dsources: current.dsources.filter((dsource) => dsource.id !== id),
      vdbs: current.vdbs.filter((vdb) => vdb.id !== id),
      timeflows: current.timeflows.filter((timeflow) => timeflow.datasetId !== id),
      snapshots: current.snapshots.filter((snapshot) => snapshot.datasetId !== id),
      leases: current.leases.filter((lease) => lease.datasetId !== id),
    }));
    for (const snapshotId of snapshots) await this.removeStorage('snapshot', snapshotId);
    for (const timeflowId of timeflows) await this.removeStorage('dataset', timeflowId);
  }

  /**
   * For a create with a caller-chosen id: the record already made with that id when `sameInput` says
   * the input is the same (a retry), undefined when there is none.
   *
   * @throws ConflictError naming `id` when the record exists but was made from other input
   */
  private replayed<T extends { id: string }>(
    records: T[],
    chosenId: string | undefined,
    label: DatasetLabel,
    sameInput: (record: T) => boolean,
  ): T | undefined {
    const record = chosenId === undefined ? undefined : records.find((candidate) => candidate.id === chosenId);
    if (record === undefined || sameInput(record)) return record;
    throw new SnapflowError(ErrorNames.Conflict, `id ${record.id} is taken by a ${label} created from other input`, {
      action:
        'Send exactly the first request again to get that record, or choose a new id (or none) to create another.',
      field: 'id',
    });
  }

  /** The snapshot a VDB was provisioned from: its provision timeflow's parent, or once that is deleted, its current one's. */
  private provisionedFrom(vdb: Vdb): string {
    const provision = this.store.document.timeflows.find(
      (timeflow) => timeflow.datasetId === vdb.id && timeflow.kind === 'provision',
    );
    return provision?.parentSnapshotId ?? vdb.parentSnapshotId;
  }

  /** Renames storage for a migrated document, then writes it; a crash in between redoes only what is left. */
  private async migrate(migration: PendingMigration): Promise<void> {
    const listing = await this.backend.list();
    const present = new Set(listing.datasets);
    // Checked for all before renaming any, so that a refusal leaves the pool as it was.
    const ambiguous = migration.renames.find(({ from, to }) => present.has(from) && present.has(to));
    if (ambiguous !== undefined)
      throw new SnapflowError(
        ErrorNames.Storage,
        `cannot migrate the engine metadata: storage ${ambiguous.from} is to become ${ambiguous.to}, but both exist in ${this.backend.root}`,
        { action: "Find out which of the two holds the dataset's data, remove the other, and start the engine again." },
      );
    for (const { from, to } of migration.renames) if (present.has(from)) await this.backend.renameDataset(from, to);
    await this.store.write(this.store.document);
    // A warning, so that the default log (warnings and errors) records that storage was renamed.
    this.log('warn', `migrated the engine metadata from version ${migration.fromVersion} to version 2`, {
      renamedStorage: migration.renames,
    });
  }

  /**
   * The path of storage a record says exists.
   *
   * @throws StorageError when it does not: caught here rather than as a puzzling mount failure on a host
   */
  private async existingStorage(thing: 'dataset' | 'snapshot', id: string, label: string): Promise<string> {
    const path = thing === 'dataset' ? this.backend.datasetPath(id) : this.backend.snapshotPath(id);
    const listing = await this.backend.list();
    if ((thing === 'dataset' ? listing.datasets : listing.snapshots).includes(id)) return path;
    throw new SnapflowError(ErrorNames.Storage, `${label} ${id} is recorded but its storage at ${path} is missing`, {
      action: 'See GET /health for what is missing; restore it or delete the record.',
    });
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
        throw missingStorage(error, id);
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
      const label = thing === 'dataset' ? 'timeflow' : 'snapshot';
      this.log('warn', `${label} ${id} was deleted but its storage could not be removed`, describeError(error));
    } finally {
      this.pending.delete(id);
    }
  }

  /** Quarantines storage no record refers to (see {@link QuarantinedStorage}); false when that fails (logged). */
  private async setAside(thing: 'dataset' | 'snapshot', id: string): Promise<boolean> {
    const label = thing === 'dataset' ? 'timeflow' : 'snapshot';
    try {
      const path = await this.backend.quarantine(thing, id);
      this.log('warn', `set aside ${label} storage ${id}, which no record refers to, at ${path}`, {
        id,
        path,
        why: 'left by a crash between making and recording storage, or newer than a restored metadata file',
        removeWith: this.backend.removalCommand(path),
      });
      return true;
    } catch (error) {
      this.log('error', `could not set aside ${label} storage ${id}, which no record refers to`, describeError(error));
      return false;
    }
  }

  /**
   * Refuses to delete storage that is mounted: a host mount of it (engine and hosts share the machine
   * in local mode) would stay and show an empty or vanished tree, and a mount inside it would be lost.
   *
   * @throws ConflictError naming the storage and where it is mounted
   */
  private async refuseMounted(trees: { thing: 'dataset' | 'snapshot'; id: string }[]): Promise<void> {
    if (trees.length === 0) return;
    let entries: MountEntry[];
    try {
      entries = await this.mounts();
    } catch (error) {
      throw new SnapflowError(
        ErrorNames.Storage,
        `cannot read the mount table to check that nothing is mounted from the storage to delete: ${
          error instanceof Error ? error.message : String(error)
        }`,
        { action: 'Retry; the engine deletes no storage it cannot check.' },
        { cause: error },
      );
    }
    for (const { thing, id } of trees) {
      const path = thing === 'dataset' ? this.backend.datasetPath(id) : this.backend.snapshotPath(id);
      const mounts = mountsOfTree(await realpath(path).catch(() => path), entries);
      if (mounts.length === 0) continue;
      const where = mounts.map((mount) => mount.mountPoint).join(', ');
      throw new SnapflowError(
        ErrorNames.Conflict,
        `${thing === 'dataset' ? 'timeflow' : 'snapshot'} ${id} is in use: its storage ${path} is mounted at ${where}`,
        {
          action: `Unmount ${where} first (stop the VDB, or let the workflow using it finish), then retry.`,
        },
      );
    }
  }

  /** Leases that have not expired at `now`. */
  private liveLeases(now: Date): Lease[] {
    return this.store.document.leases.filter((lease) => Date.parse(lease.expiresAt) > now.getTime());
  }

  private async commit(change: (doc: EngineDocument) => EngineDocument): Promise<void> {
    await this.store.write(change(this.store.document));
  }

  private async findInconsistencies(): Promise<EngineInconsistency[]> {
    const doc = this.store.document;
    const listing = await this.backend.list();
    const timeflowStorage = new Set(listing.datasets);
    const snapshotStorage = new Set(listing.snapshots);
    const problems: EngineInconsistency[] = [];
    const missing = (id: string, label: string, path: string) =>
      problems.push({
        kind: 'missing-storage',
        id,
        message: `${label} ${id} is recorded but its storage at ${path} is missing`,
      });
    const dangling = (id: string, message: string) => problems.push({ kind: 'dangling-reference', id, message });
    const has = <T extends { id: string }>(list: T[], id: string) => list.some((record) => record.id === id);
    const datasets = [...doc.dsources, ...doc.vdbs];

    for (const dsource of doc.dsources) {
      if (!has(doc.sourceConfigs, dsource.sourceConfigId))
        dangling(dsource.id, `dSource ${dsource.id} refers to source config ${dsource.sourceConfigId}, which is gone`);
      if (!has(doc.environments, dsource.stagingEnvironmentId))
        dangling(
          dsource.id,
          `dSource ${dsource.id} refers to environment ${dsource.stagingEnvironmentId}, which is gone`,
        );
    }
    for (const vdb of doc.vdbs) {
      if (!has(doc.snapshots, vdb.parentSnapshotId))
        dangling(vdb.id, `VDB ${vdb.id} refers to snapshot ${vdb.parentSnapshotId}, which is gone`);
      if (!has(doc.environments, vdb.environmentId))
        dangling(vdb.id, `VDB ${vdb.id} refers to environment ${vdb.environmentId}, which is gone`);
    }
    for (const dataset of datasets) {
      const current = doc.timeflows.find((timeflow) => timeflow.id === dataset.currentTimeflowId);
      if (current?.datasetId !== dataset.id)
        dangling(
          dataset.id,
          `${dataset.id} has current timeflow ${dataset.currentTimeflowId}, which is gone or not its own`,
        );
    }
    for (const timeflow of doc.timeflows) {
      if (!timeflowStorage.has(timeflow.id) && !this.pending.has(timeflow.id))
        missing(timeflow.id, 'timeflow', this.backend.datasetPath(timeflow.id));
      if (!has(datasets, timeflow.datasetId))
        dangling(timeflow.id, `timeflow ${timeflow.id} refers to dataset ${timeflow.datasetId}, which is gone`);
      if (timeflow.parentSnapshotId !== undefined && !has(doc.snapshots, timeflow.parentSnapshotId))
        dangling(timeflow.id, `timeflow ${timeflow.id} refers to snapshot ${timeflow.parentSnapshotId}, which is gone`);
    }
    for (const snapshot of doc.snapshots) {
      if (!snapshotStorage.has(snapshot.id) && !this.pending.has(snapshot.id))
        missing(snapshot.id, 'snapshot', this.backend.snapshotPath(snapshot.id));
      if (!has(datasets, snapshot.datasetId))
        dangling(snapshot.id, `snapshot ${snapshot.id} refers to dataset ${snapshot.datasetId}, which is gone`);
      if (
        !doc.timeflows.some(
          (timeflow) => timeflow.id === snapshot.timeflowId && timeflow.datasetId === snapshot.datasetId,
        )
      )
        dangling(
          snapshot.id,
          `snapshot ${snapshot.id} refers to timeflow ${snapshot.timeflowId}, which is gone or not of ${snapshot.datasetId}`,
        );
    }
    for (const sourceConfig of doc.sourceConfigs) {
      if (!has(doc.environments, sourceConfig.environmentId))
        dangling(
          sourceConfig.id,
          `source config ${sourceConfig.id} refers to environment ${sourceConfig.environmentId}, which is gone`,
        );
    }
    const records = new Set([...doc.timeflows, ...doc.snapshots].map((record) => record.id));
    const orphans = [...listing.datasets, ...listing.snapshots].filter(
      (id) => !records.has(id) && !this.pending.has(id),
    );
    for (const id of orphans)
      problems.push({
        kind: 'orphan-storage',
        id,
        message: `storage ${id} belongs to no record; the next start sets it aside (see quarantined)`,
      });
    return problems;
  }

  /** Refuses a mount location that overlaps one in use on the same host, or the engine's own storage. */
  private checkMountFree(environment: Environment, mountLocation: string, field: string): void {
    const doc = this.store.document;
    const hostOf = (environmentId: string) => doc.environments.find((record) => record.id === environmentId)?.hostId;
    const inUse: PathInUse[] = [
      ...doc.dsources.map((dsource) => ({
        path: dsource.parameters.mountLocation,
        hostId: hostOf(dsource.stagingEnvironmentId),
        label: `the staging mount location ${dsource.parameters.mountLocation} of dSource ${dsource.id}`,
      })),
      ...doc.vdbs.map((vdb) => ({
        path: vdb.parameters.mountLocation,
        hostId: hostOf(vdb.environmentId),
        label: `the mount location ${vdb.parameters.mountLocation} of VDB ${vdb.id}`,
      })),
    ];
    const clash = pathClash(mountLocation, environment.hostId, inUse, [
      { path: this.backend.root, label: `the engine's storage at ${this.backend.root}` },
    ]);
    if (clash === undefined) return;
    throw new SnapflowError(
      ErrorNames.Conflict,
      `${field} ${mountLocation} on host ${environment.hostId} overlaps ${clash.label}`,
      {
        action:
          'Choose a mount location outside the engine root that no other dataset on that host uses or lies inside.',
        field,
      },
    );
  }

  private environment(id: string, field?: string): Environment {
    return found(this.store.document.environments, id, 'environment', 'GET /environments', field);
  }

  private sourceConfig(id: string, field?: string): SourceConfig {
    return found(this.store.document.sourceConfigs, id, 'source config', 'GET /source-configs', field);
  }

  private dsource(id: string): DSource {
    return found(this.store.document.dsources, id, 'dSource', 'GET /dsources');
  }

  private snapshot(id: string, field?: string): SnapshotRecord {
    return found(this.store.document.snapshots, id, 'snapshot', 'GET /snapshots', field);
  }

  private timeflow(id: string, field?: string): TimeflowRecord {
    return found(this.store.document.timeflows, id, 'timeflow', 'GET /timeflows', field);
  }

  private vdb(id: string): Vdb {
    return found(this.store.document.vdbs, id, 'VDB', 'GET /vdbs');
  }

  /** A dSource or a VDB: the records that own timeflows and snapshots. */
  private dataset(id: string): DSource | Vdb {
    const dataset = this.findDataset(id);
    if (dataset !== undefined) return dataset.record;
    throw new SnapflowError(ErrorNames.NotFound, `dataset ${id} is neither a dSource nor a VDB`, {
      action: 'Give the id of a dSource (GET /dsources) or of a VDB (GET /vdbs).',
      field: 'datasetId',
    });
  }

  private findDataset(id: string): { record: DSource | Vdb; label: DatasetLabel } | undefined {
    const doc = this.store.document;
    const dsource = doc.dsources.find((record) => record.id === id);
    if (dsource !== undefined) return { record: dsource, label: 'dSource' };
    const vdb = doc.vdbs.find((record) => record.id === id);
    return vdb === undefined ? undefined : { record: vdb, label: 'VDB' };
  }

  /** Any record that can be deleted or measured, by id. */
  private target(id: string, none: string): Target {
    const doc = this.store.document;
    const environment = doc.environments.find((record) => record.id === id);
    if (environment !== undefined) return { kind: 'environment', record: environment };
    const sourceConfig = doc.sourceConfigs.find((record) => record.id === id);
    if (sourceConfig !== undefined) return { kind: 'sourceConfig', record: sourceConfig };
    const dataset = this.findDataset(id);
    if (dataset !== undefined) return { kind: 'dataset', ...dataset };
    const timeflow = doc.timeflows.find((record) => record.id === id);
    if (timeflow !== undefined) return { kind: 'timeflow', record: timeflow };
    const snapshot = doc.snapshots.find((record) => record.id === id);
    if (snapshot !== undefined) return { kind: 'snapshot', record: snapshot };
    throw new SnapflowError(ErrorNames.NotFound, `${none} has id ${id}`, {
      action: 'Check the id; GET /dsources, /vdbs, /timeflows and /snapshots list the existing ones.',
      field: 'id',
    });
  }

  /**
   * The snapshot as answered: with the path of its storage on this machine (over any path an older
   * file still records), without its request token.
   */
  private withPath(snapshot: SnapshotRecord): Snapshot {
    const { requestToken: _, ...answered } = copy(snapshot);
    return { ...answered, path: this.backend.snapshotPath(snapshot.id) };
  }

  /** The timeflow as stored, with the path of its storage on this machine. */
  private withTimeflowPath(timeflow: TimeflowRecord): Timeflow {
    return { ...copy(timeflow), path: this.backend.datasetPath(timeflow.id) };
  }

  private timestamp(): string {
    return this.now().toISOString();
  }
}

/**
 * Refuses a snapshot a VDB may not get a new timeflow from.
 *
 * @throws ValidationError naming `snapshotId`: a rollback needs one of the VDB's own snapshots, a
 *   refresh one of its parent dataset's
 */
function checkTimeflowSource(vdb: Vdb, snapshot: SnapshotRecord, kind: 'refresh' | 'rollback'): void {
  const expected = kind === 'rollback' ? vdb.id : vdb.parentDatasetId;
  if (snapshot.datasetId === expected) return;
  const whose = kind === 'rollback' ? `VDB ${vdb.id}` : `${vdb.id}'s parent ${vdb.parentDatasetId}`;
  throw new SnapflowError(
    ErrorNames.Validation,
    `snapshotId ${snapshot.id} is a snapshot of ${snapshot.datasetId}, not of ${whose}: a ${kind} takes ${
      kind === 'rollback' ? "one of the VDB's own snapshots" : "one of its parent's snapshots"
    }`,
    {
      action:
        `Give a snapshot of ${expected} (GET /snapshots?datasetId=${expected})` +
        (kind === 'rollback'
          ? ', or refresh from the parent with kind refresh.'
          : ', or roll back with kind rollback.'),
      field: 'snapshotId',
    },
  );
}

function snapshotTree(snapshot: SnapshotRecord): StorageTree {
  return { kind: 'snapshot', id: snapshot.id };
}

/**
 * The error for storage that should be there and is not. A record was found before the storage was
 * touched, so the backend's NotFoundError means storage gone astray, not a bad id.
 */
function missingStorage(error: unknown, id: string): unknown {
  if (!isSnapflowError(error, ErrorNames.NotFound)) return error;
  return new SnapflowError(ErrorNames.Storage, `the storage behind ${id} is missing: ${error.message}`, {
    action: 'See GET /health for what is missing; restore it or delete the record.',
  });
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
