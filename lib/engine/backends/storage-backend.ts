/** The storage backends the engine can run on. */
export type StorageBackendKind = 'btrfs' | 'dir';

/** What a backend holds, by id; the engine compares it with its metadata at start-up. */
export interface StorageListing {
  datasets: string[];
  snapshots: string[];
}

/** Storage set aside by {@link StorageBackend.quarantine}. */
export interface QuarantinedTree {
  kind: 'dataset' | 'snapshot';
  /** The id it had. */
  id: string;
  /** Where it is now. */
  path: string;
}

/** One dataset or snapshot in the pool, by id. */
export interface StorageTree {
  kind: 'dataset' | 'snapshot';
  id: string;
}

/** Space a set of trees takes: the sum over the trees of what each one takes. */
export interface TreeUsage {
  /** Bytes of file data the trees reference. */
  totalBytes: number;
  /** Bytes no file outside each tree references. */
  exclusiveBytes: number;
  /** Bytes each tree shares with files outside it (counted once per tree). */
  sharedBytes: number;
  /** False when the backend cannot tell shared from exclusive and counts everything as exclusive. */
  exact: boolean;
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
  /**
   * Sets a dataset or snapshot aside, atomically and without copying: it is renamed in place to
   * `.orphan-<id>` (with a suffix if that is taken), which {@link list} never shows and nothing reuses.
   * Returns its new path. (In place, since btrfs refuses to move a read-only snapshot to another directory.)
   */
  quarantine(thing: 'dataset' | 'snapshot', id: string): Promise<string>;
  /** What {@link quarantine} set aside, oldest name first. */
  listQuarantined(): Promise<QuarantinedTree[]>;
  /** The shell command a person runs to remove a quarantined tree for good. */
  removalCommand(path: string): string;
  /** Gives a dataset a new id, atomically and without copying its data (for metadata migrations). */
  renameDataset(id: string, newId: string): Promise<void>;
  /** Where a dataset's tree is on this machine, whether or not it exists. */
  datasetPath(id: string): string;
  /** Where a snapshot's tree is on this machine, whether or not it exists. */
  snapshotPath(id: string): string;
  list(): Promise<StorageListing>;
  /** Space the given trees take, summed; no trees take no space. */
  treeUsage(trees: readonly StorageTree[]): Promise<TreeUsage>;
}
