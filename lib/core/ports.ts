import type {
  LinkedSourceParameters,
  SnapshotDefinition,
  SourceConfigDefinition,
  VirtualSourceParameters,
} from '../plugins/directory-tree/schemas';
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
  SshAccess,
  SshClientFiles,
  Timeflow,
  Vdb,
  VdbStatus,
} from './model';

/** What registers a host; see {@link EngineApi.createEnvironment}. */
export interface CreateEnvironmentInput {
  name: string;
  hostId: string;
  scratchPath?: string;
  ssh?: Omit<SshAccess, 'port'> & { port?: number };
  sshClient?: SshClientFiles;
}

/**
 * The engine's API as the workflow steps see it. The HTTP client in `lib/adapters` implements it;
 * every method fails with a {@link SnapflowError} whose name comes from `ErrorNames`.
 *
 * Creates that take an optional `id` are idempotent: the caller may choose the id (it must match
 * ID_PATTERN with the right prefix), and repeating the call with the same id and the same input
 * returns the existing record; the same id with different input is a ConflictError.
 */
export interface EngineApi {
  /**
   * `scratchPath` defaults to `/var/tmp/snapflow`, `ssh.port` to 22. `ssh` is required for an `ssh-…`
   * host id and refused for any other; an engine that does not serve local mode refuses it altogether.
   */
  createEnvironment(input: CreateEnvironmentInput): Promise<Environment>;
  getEnvironment(id: string): Promise<Environment>;
  listEnvironments(): Promise<Environment[]>;
  /** Refused with DependentsExistError while source configs, dSources or VDBs use it. */
  deleteEnvironment(id: string): Promise<void>;

  createSourceConfig(input: { environmentId: string; name: string; path: string }): Promise<SourceConfig>;
  getSourceConfig(id: string): Promise<SourceConfig>;
  listSourceConfigs(): Promise<SourceConfig[]>;
  /** Refused with DependentsExistError while dSources were linked from it. */
  deleteSourceConfig(id: string): Promise<void>;

  /** Creates the dSource, its first timeflow and that timeflow's empty storage. */
  createDSource(input: {
    id?: string;
    name: string;
    sourceConfigId: string;
    stagingEnvironmentId: string;
    parameters: LinkedSourceParameters;
    /** Validated with parseSnapshotPolicy (root `policy`); default DEFAULT_SNAPSHOT_POLICY. */
    policy?: unknown;
    /** Default none. */
    eventSources?: EventSource[];
  }): Promise<DSource>;
  /** Replaces the dSource's or VDB's policy and, for a dSource, its event sources when given. */
  updateDatasetSettings(
    datasetId: string,
    input: { policy?: unknown; eventSources?: EventSource[] },
  ): Promise<DSource | Vdb>;
  getDSource(id: string): Promise<DSource>;
  listDSources(): Promise<DSource[]>;
  /** Removes its timeflows, snapshots and storage; refused with DependentsExistError while VDBs use its snapshots. */
  deleteDSource(id: string): Promise<void>;

  /** Makes a dataset's current timeflow (dSource or VDB id) reachable by hosts and says how to mount it. */
  exportDataset(datasetId: string, input: { readOnly: boolean }): Promise<ExportSpec>;
  /** Makes a snapshot reachable by hosts, read-only (V2P). */
  exportSnapshot(snapshotId: string): Promise<ExportSpec>;

  /**
   * Takes a read-only snapshot of a dataset's current timeflow as it is now. A repeated call with the
   * same `requestToken` (e.g. the execution and state that asked) returns the snapshot it made.
   */
  snapshotDataset(
    datasetId: string,
    input: { provenance: Provenance; metadata: SnapshotDefinition; requestToken?: string },
  ): Promise<Snapshot>;
  getSnapshot(id: string): Promise<Snapshot>;
  /** Oldest first. */
  listSnapshots(filter?: { datasetId?: string; timeflowId?: string }): Promise<Snapshot[]>;
  /** Refused with DependentsExistError while VDBs or timeflows were cloned from it. */
  deleteSnapshot(id: string): Promise<void>;
  /** Sets or clears (`null`) a snapshot's expiry and its retain-forever mark; validated with parseSnapshotRetention. */
  updateSnapshot(id: string, input: { expiresAt?: string | null; retainForever?: boolean }): Promise<Snapshot>;

  /** Clones the snapshot into a new VDB with its first timeflow, recorded as PROVISIONING and enabled. */
  createVdb(input: {
    id?: string;
    name: string;
    snapshotId: string;
    environmentId: string;
    parameters: VirtualSourceParameters;
    /** As for createDSource; default: no schedule, default retention. */
    policy?: unknown;
  }): Promise<Vdb>;
  getVdb(id: string): Promise<Vdb>;
  listVdbs(): Promise<Vdb[]>;
  updateVdb(
    id: string,
    input: { status?: VdbStatus; enabled?: boolean; sourceConfig?: SourceConfigDefinition },
  ): Promise<Vdb>;
  /** Destroys the VDB's timeflows, snapshots and storage; refused while child VDBs use its snapshots. */
  deleteVdb(id: string): Promise<void>;

  /** Oldest first. */
  listTimeflows(filter?: { datasetId?: string }): Promise<Timeflow[]>;
  getTimeflow(id: string): Promise<Timeflow>;
  /**
   * Clones a snapshot into a new timeflow of the VDB and makes it current, returning it with the
   * timeflow it replaced (which stays). The snapshot must be the VDB's own for `rollback`, and of
   * the VDB's parent dataset for `refresh`.
   */
  createTimeflow(
    vdbId: string,
    input: { snapshotId: string; kind: 'refresh' | 'rollback' },
  ): Promise<{ vdb: Vdb; timeflow: Timeflow; previousTimeflowId: string }>;
  /** Makes one of the VDB's timeflows current again (undo of createTimeflow, or switching back). */
  switchTimeflow(vdbId: string, timeflowId: string): Promise<Vdb>;
  /** Refused for a current timeflow, and with DependentsExistError while VDBs were cloned from its snapshots. */
  deleteTimeflow(id: string): Promise<void>;

  /**
   * Takes the dataset's lease for one workflow run, so two runs never change one dataset at once.
   * Taking it again with the same `holder` renews it. Fails with DatasetBusyError (naming the holder
   * and when the lease expires) while another holder has it; an expired lease is free.
   */
  acquireLease(datasetId: string, input: { holder: string; ttlSeconds: number }): Promise<Lease>;
  /** Releases the lease if `holder` has it; a lease held by another or by no one is left alone. */
  releaseLease(datasetId: string, holder: string): Promise<void>;

  /** Space of a dataset (all its timeflows), a timeflow or a snapshot. */
  getSpace(id: string): Promise<Space>;
  /** What stops the object (environment, source config, dSource, VDB, timeflow or snapshot) from being deleted; empty when nothing does. */
  listDependents(id: string): Promise<Dependent[]>;
}
