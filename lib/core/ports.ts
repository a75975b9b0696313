import type {
  LinkedSourceParameters,
  SnapshotDefinition,
  VirtualSourceParameters,
} from '../plugins/directory-tree/schemas';
import type { DSource, Environment, ExportSpec, Provenance, Snapshot, SourceConfig, Vdb, VdbStatus } from './model';

/**
 * The engine's API as the workflow steps see it. The HTTP client in `lib/adapters` implements it;
 * every method fails with a {@link SnapflowError} whose name comes from `ErrorNames`.
 */
export interface EngineApi {
  createEnvironment(input: { name: string; hostId: string }): Promise<Environment>;
  getEnvironment(id: string): Promise<Environment>;
  listEnvironments(): Promise<Environment[]>;

  createSourceConfig(input: { environmentId: string; name: string; path: string }): Promise<SourceConfig>;
  getSourceConfig(id: string): Promise<SourceConfig>;

  /** Creates the dSource and its empty storage. */
  createDSource(input: {
    name: string;
    sourceConfigId: string;
    stagingEnvironmentId: string;
    parameters: LinkedSourceParameters;
  }): Promise<DSource>;
  getDSource(id: string): Promise<DSource>;
  listDSources(): Promise<DSource[]>;
  /** Refused with DependentsExistError while VDBs use its snapshots. */
  deleteDSource(id: string): Promise<void>;

  /** Makes a dataset (dSource or VDB) reachable by hosts and says how to mount it. */
  exportDataset(datasetId: string, input: { readOnly: boolean }): Promise<ExportSpec>;

  /** Takes a read-only snapshot of a dataset's storage as it is now. */
  snapshotDataset(
    datasetId: string,
    input: { provenance: Provenance; metadata: SnapshotDefinition },
  ): Promise<Snapshot>;
  getSnapshot(id: string): Promise<Snapshot>;
  listSnapshots(filter?: { datasetId?: string }): Promise<Snapshot[]>;
  /** Refused with DependentsExistError while VDBs were cloned from it. */
  deleteSnapshot(id: string): Promise<void>;

  /** Clones the snapshot into new writable storage and records the VDB as PROVISIONING. */
  createVdb(input: {
    name: string;
    snapshotId: string;
    environmentId: string;
    parameters: VirtualSourceParameters;
  }): Promise<Vdb>;
  getVdb(id: string): Promise<Vdb>;
  listVdbs(): Promise<Vdb[]>;
  updateVdb(id: string, input: { status?: VdbStatus; sourceConfig?: Vdb['sourceConfig'] }): Promise<Vdb>;
  /** Destroys the VDB's storage and record; refused while child VDBs use its snapshots. */
  deleteVdb(id: string): Promise<void>;
}
