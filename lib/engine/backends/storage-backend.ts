/** The storage backends the engine can run on. */
export type StorageBackendKind = 'btrfs' | 'dir';

/** What a backend holds, by id; the engine compares it with its metadata at start-up. */
export interface StorageListing {
  datasets: string[];
  snapshots: string[];
}

/** Size and free space of the filesystem that holds the pool. */
export interface StorageUsage {
  totalBytes: number;
  freeBytes: number;
}

/**
 * Datasets (writable trees), snapshots (read-only points in time of a dataset) and clones (writable
 * datasets made from a snapshot), all named by id. Every operation either does what it says or throws
 * a SnapflowError: NotFoundError for a missing id, ConflictError for a taken one, ValidationError for an
 * id that cannot name storage, StorageError when the underlying tool fails, UnsupportedOperationError
 * for what the backend cannot do.
 */
export interface StorageBackend {
  readonly kind: StorageBackendKind;
  /** The directory the backend owns; nothing outside it is touched. */
  readonly root: string;
  /** Creates or mounts the pool. Safe to call again, also after a crash. */
  open(): Promise<void>;
  /** Releases the pool (unmounts it, for btrfs); the data stays for the next `open()`. */
  close(): Promise<void>;
  /** Closes the pool and removes everything the backend created under its root. */
  destroy(): Promise<void>;
  /** Creates an empty writable dataset and returns its path. */
  createDataset(id: string): Promise<string>;
  /** Takes a read-only point-in-time copy of a dataset and returns its path. */
  snapshot(datasetId: string, snapshotId: string): Promise<string>;
  /** Creates a writable dataset from a snapshot and returns its path. */
  clone(snapshotId: string, newDatasetId: string): Promise<string>;
  deleteDataset(id: string): Promise<void>;
  deleteSnapshot(id: string): Promise<void>;
  /** Where a dataset's tree is on this machine, whether or not it exists. */
  datasetPath(id: string): string;
  /** Where a snapshot's tree is on this machine, whether or not it exists. */
  snapshotPath(id: string): string;
  list(): Promise<StorageListing>;
  usage(): Promise<StorageUsage>;
}
