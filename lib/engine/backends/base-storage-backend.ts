import { lstat, mkdir, readdir, rename, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorNames, isSnapflowError, SnapflowError } from '../../core/errors';
import type {
  QuarantinedTree,
  StorageBackend,
  StorageBackendKind,
  StorageListing,
  StorageTree,
  TreeUsage,
} from './storage-backend';

/**
 * Ids that may name storage. No dots, so an id never reads as `..` and never collides with the
 * dot-prefixed names backends use for work in progress.
 */
const STORAGE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

type Thing = 'dataset' | 'snapshot';

/** Prefix of storage set aside by quarantine(); the dot keeps it out of list() and away from any id. */
const QUARANTINE_PREFIX = '.orphan-';

/**
 * The layout and checks every backend shares: the pool lives at `<root>/pool`, datasets at
 * `<pool>/datasets/<id>`, snapshots at `<pool>/snapshots/<id>`. Subclasses supply the primitives that
 * create, copy and remove trees.
 */
export abstract class BaseStorageBackend implements StorageBackend {
  abstract readonly kind: StorageBackendKind;
  readonly root: string;
  protected readonly poolPath: string;
  private opened = false;

  protected constructor(root: string) {
    this.root = resolve(root);
    this.poolPath = join(this.root, 'pool');
  }

  /** Creates or mounts the pool itself; the base class then creates the layout inside it. */
  protected abstract openPool(): Promise<void>;
  protected abstract closePool(): Promise<void>;
  /** Removes the pool; called after {@link closePool}. */
  protected abstract destroyPool(): Promise<void>;
  protected abstract makeDataset(path: string): Promise<void>;
  /** Makes `target` a point-in-time copy of `source`, read-only for snapshots, writable for clones. */
  protected abstract makeCopy(source: string, target: string, readOnly: boolean): Promise<void>;
  protected abstract removeTree(path: string): Promise<void>;
  /** Space the trees at `paths` (at least one, all existing) take, summed. */
  protected abstract measureTrees(paths: readonly string[]): Promise<TreeUsage>;
  abstract removalCommand(path: string): string;

  /** Clears work a crash left half done; runs on every open. */
  protected async sweepLeftovers(): Promise<void> {}

  open(): Promise<void> {
    return this.guarded('opening the pool', async () => {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      await this.openPool();
      await mkdir(this.directory('dataset'), { recursive: true });
      await mkdir(this.directory('snapshot'), { recursive: true });
      await this.sweepLeftovers();
      this.opened = true;
    });
  }

  close(): Promise<void> {
    this.opened = false;
    return this.guarded('closing the pool', () => this.closePool());
  }

  destroy(): Promise<void> {
    return this.guarded('destroying the pool', async () => {
      await this.close();
      await this.destroyPool();
      // The root may hold other things (the engine's metadata); then it stays.
      await rmdir(this.root).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT' && error.code !== 'ENOTEMPTY') throw error;
      });
    });
  }

  datasetPath(id: string): string {
    return join(this.directory('dataset'), checkedId(id, 'dataset'));
  }

  snapshotPath(id: string): string {
    return join(this.directory('snapshot'), checkedId(id, 'snapshot'));
  }

  createDataset(id: string): Promise<string> {
    return this.guarded(`creating dataset ${id}`, async () => {
      const path = this.datasetPath(id);
      this.requireOpen();
      await this.mustBeAbsent(path, 'dataset', id);
      await this.makeDataset(path);
      return path;
    });
  }

  snapshot(datasetId: string, snapshotId: string): Promise<string> {
    return this.guarded(`snapshotting dataset ${datasetId}`, async () => {
      const source = this.datasetPath(datasetId);
      const target = this.snapshotPath(snapshotId);
      this.requireOpen();
      await this.mustExist(source, 'dataset', datasetId);
      await this.mustBeAbsent(target, 'snapshot', snapshotId);
      await this.makeCopy(source, target, true);
      return target;
    });
  }

  clone(snapshotId: string, newDatasetId: string): Promise<string> {
    return this.guarded(`cloning snapshot ${snapshotId}`, async () => {
      const source = this.snapshotPath(snapshotId);
      const target = this.datasetPath(newDatasetId);
      this.requireOpen();
      await this.mustExist(source, 'snapshot', snapshotId);
      await this.mustBeAbsent(target, 'dataset', newDatasetId);
      await this.makeCopy(source, target, false);
      return target;
    });
  }

  deleteDataset(id: string): Promise<void> {
    return this.guarded(`deleting dataset ${id}`, async () => {
      const path = this.datasetPath(id);
      this.requireOpen();
      await this.mustExist(path, 'dataset', id);
      await this.removeTree(path);
    });
  }

  deleteSnapshot(id: string): Promise<void> {
    return this.guarded(`deleting snapshot ${id}`, async () => {
      const path = this.snapshotPath(id);
      this.requireOpen();
      await this.mustExist(path, 'snapshot', id);
      await this.removeTree(path);
    });
  }

  renameDataset(id: string, newId: string): Promise<void> {
    return this.guarded(`renaming dataset ${id} to ${newId}`, async () => {
      const path = this.datasetPath(id);
      const target = this.datasetPath(newId);
      this.requireOpen();
      await this.mustExist(path, 'dataset', id);
      await this.mustBeAbsent(target, 'dataset', newId);
      // One rename(2) in one directory: atomic, and a btrfs subvolume moves with it like a directory.
      await rename(path, target);
    });
  }

  quarantine(thing: Thing, id: string): Promise<string> {
    return this.guarded(`setting ${thing} ${id} aside`, async () => {
      const path = thing === 'dataset' ? this.datasetPath(id) : this.snapshotPath(id);
      this.requireOpen();
      await this.mustExist(path, thing, id);
      let target = join(this.directory(thing), `${QUARANTINE_PREFIX}${id}`);
      for (let copy = 1; await pathExists(target); copy += 1)
        target = join(this.directory(thing), `${QUARANTINE_PREFIX}${id}.${copy}`);
      // One rename(2) within the directory: atomic, and allowed for read-only btrfs snapshots too.
      await rename(path, target);
      return target;
    });
  }

  listQuarantined(): Promise<QuarantinedTree[]> {
    return this.guarded('listing quarantined storage', async () => {
      this.requireOpen();
      const trees: QuarantinedTree[] = [];
      for (const kind of ['dataset', 'snapshot'] as const)
        for (const name of (await readdir(this.directory(kind))).sort()) {
          if (!name.startsWith(QUARANTINE_PREFIX)) continue;
          const id = name.slice(QUARANTINE_PREFIX.length).split('.')[0] ?? '';
          trees.push({ kind, id, path: join(this.directory(kind), name) });
        }
      return trees;
    });
  }

  treeUsage(trees: readonly StorageTree[]): Promise<TreeUsage> {
    return this.guarded('measuring space', async () => {
      const located = trees.map((tree) => ({
        ...tree,
        path: tree.kind === 'dataset' ? this.datasetPath(tree.id) : this.snapshotPath(tree.id),
      }));
      this.requireOpen();
      for (const tree of located) await this.mustExist(tree.path, tree.kind, tree.id);
      if (located.length === 0) return { totalBytes: 0, exclusiveBytes: 0, sharedBytes: 0, exact: true };
      return this.measureTrees(located.map((tree) => tree.path));
    });
  }

  list(): Promise<StorageListing> {
    return this.guarded('listing the pool', async () => {
      this.requireOpen();
      const ids = async (thing: Thing) =>
        (await readdir(this.directory(thing))).filter((name) => STORAGE_ID_PATTERN.test(name)).sort();
      return { datasets: await ids('dataset'), snapshots: await ids('snapshot') };
    });
  }

  /** The directory holding all datasets or all snapshots. */
  protected directory(thing: Thing): string {
    return join(this.poolPath, thing === 'dataset' ? 'datasets' : 'snapshots');
  }

  /** Runs `body`, turning errors that are not SnapflowErrors (failed fs calls) into StorageErrors. */
  private async guarded<T>(operation: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      if (isSnapflowError(error)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new SnapflowError(
        ErrorNames.Storage,
        `${operation} in the ${this.kind} pool at ${this.root} failed: ${message}`,
        { action: 'Check free space and permissions under the engine root, then retry.' },
        { cause: error },
      );
    }
  }

  private requireOpen(): void {
    if (this.opened) return;
    throw new SnapflowError(ErrorNames.Storage, `the ${this.kind} storage pool at ${this.root} is not open`, {
      action: 'Open the storage backend before using it (the engine does so at start-up).',
    });
  }

  private async mustExist(path: string, thing: Thing, id: string): Promise<void> {
    if (await pathExists(path)) return;
    throw new SnapflowError(ErrorNames.NotFound, `${thing} ${id} does not exist in the storage pool at ${this.root}`, {
      action: `List the pool's ${thing}s and use one of their ids.`,
    });
  }

  private async mustBeAbsent(path: string, thing: Thing, id: string): Promise<void> {
    if (!(await pathExists(path))) return;
    throw new SnapflowError(ErrorNames.Conflict, `${thing} ${id} already exists in the storage pool at ${this.root}`, {
      action: `Use a new ${thing} id.`,
    });
  }
}

function checkedId(id: string, thing: Thing): string {
  if (STORAGE_ID_PATTERN.test(id)) return id;
  throw new SnapflowError(ErrorNames.Validation, `${JSON.stringify(id)} cannot name a ${thing} in storage`, {
    action: 'Use an id of letters, digits, - and _ that starts with a letter or digit (at most 128 characters).',
  });
}

/** `path` as one shell word, for commands shown to people. */
export function shellQuote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

/** Whether anything (even a dangling symlink) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
