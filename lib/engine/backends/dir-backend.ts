import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BaseStorageBackend, shellQuote } from './base-storage-backend';
import { type Command, runCommand } from './run-command';
import type { TreeUsage } from './storage-backend';

/** Prefix of a copy in progress; renamed to its id once complete. */
const PARTIAL_PREFIX = '.partial-';
/** Prefix of a tree being removed; renamed first so that a half-removed tree never keeps its id. */
const DELETING_PREFIX = '.deleting-';

/**
 * The copy that makes snapshots and clones: `-a` keeps modes, owners, times, symlinks and hard links,
 * `--reflink=auto` shares blocks where the filesystem can, and `--no-target-directory` copies the tree
 * itself rather than into it.
 */
export function copyTreeCommand(source: string, target: string): Command {
  return { file: 'cp', args: ['-a', '--reflink=auto', '--no-target-directory', source, target] };
}

/**
 * Portable storage: plain directories, snapshots and clones by copy. Slow for big trees (a full copy
 * unless the filesystem supports reflinks) but needs neither root nor btrfs. Its snapshots are
 * read-only by convention only: making them read-only would mean changing the data's modes.
 */
export class DirBackend extends BaseStorageBackend {
  readonly kind = 'dir';

  /** @param root - the directory the pool is created in */
  constructor(root: string) {
    super(root);
  }

  protected async openPool(): Promise<void> {
    await mkdir(this.poolPath, { recursive: true, mode: 0o700 });
  }

  protected async closePool(): Promise<void> {}

  protected async destroyPool(): Promise<void> {
    await removeTree(this.poolPath);
  }

  protected async makeDataset(path: string): Promise<void> {
    await mkdir(path);
  }

  protected async makeCopy(source: string, target: string, _readOnly: boolean): Promise<void> {
    // Copying under a temporary name and renaming makes the copy appear whole or not at all.
    const partial = join(dirname(target), `${PARTIAL_PREFIX}${basename(target)}`);
    await removeTree(partial);
    await runCommand(copyTreeCommand(source, partial));
    await rename(partial, target);
  }

  protected async removeTree(path: string): Promise<void> {
    const doomed = join(dirname(path), `${DELETING_PREFIX}${basename(path)}-${randomBytes(4).toString('hex')}`);
    await rename(path, doomed);
    await removeTree(doomed);
  }

  removalCommand(path: string): string {
    return `rm -rf ${shellQuote(path)}`;
  }

  /** Copies share nothing the backend can see, so everything counts as exclusive, and the answer as inexact. */
  protected async measureTrees(paths: readonly string[]): Promise<TreeUsage> {
    const totalBytes = await sumFileSizes(paths);
    return { totalBytes, exclusiveBytes: totalBytes, sharedBytes: 0, exact: false };
  }

  protected override async sweepLeftovers(): Promise<void> {
    for (const directory of [this.directory('dataset'), this.directory('snapshot')]) {
      for (const name of await readdir(directory)) {
        if (name.startsWith(PARTIAL_PREFIX) || name.startsWith(DELETING_PREFIX))
          await removeTree(join(directory, name));
      }
    }
  }
}

/** Bytes of the regular files under `paths`, counting a file with several hard links once. */
async function sumFileSizes(paths: readonly string[]): Promise<number> {
  const linked = new Set<string>();
  let total = 0;
  const visit = async (path: string): Promise<void> => {
    const stats = await lstat(path);
    if (stats.isFile()) {
      const inode = `${stats.dev}:${stats.ino}`;
      if (stats.nlink > 1 && linked.has(inode)) return;
      if (stats.nlink > 1) linked.add(inode);
      total += stats.size;
      return;
    }
    if (!stats.isDirectory()) return;
    for (const name of await readdir(path)) await visit(join(path, name));
  };
  for (const path of paths) await visit(path);
  return total;
}

/** Removes a tree, also one holding read-only directories when not running as root. */
async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw error;
    // The tree is being destroyed, so opening up its directories' modes loses nothing.
    await makeDirectoriesWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}

async function makeDirectoriesWritable(path: string): Promise<void> {
  const stats = await lstat(path);
  if (!stats.isDirectory()) return;
  await chmod(path, (stats.mode & 0o7777) | 0o700);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) await makeDirectoriesWritable(join(path, entry.name));
  }
}
