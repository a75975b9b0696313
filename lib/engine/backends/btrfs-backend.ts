import { mkdir, open, readFile, realpath, rename, rm, rmdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { findMount, type MountEntry } from '../../adapters/mount-table';
import { ErrorNames, SnapflowError } from '../../core/errors';
import { BaseStorageBackend, pathExists, shellQuote } from './base-storage-backend';
import { type Command, runCommand } from './run-command';
import type { TreeUsage } from './storage-backend';

/** Size of the sparse pool image; it only takes the space its data uses. */
export const DEFAULT_POOL_SIZE_BYTES = 32 * 1024 ** 3;

/** mkfs.btrfs refuses much smaller images (metadata is duplicated), and a pool below this is of no use. */
export const MIN_POOL_SIZE_BYTES = 256 * 1024 ** 2;

/** The commands the btrfs backend runs, as data; every path is absolute, so none reads as an option. */
export const btrfsCommands = {
  format: (image: string): Command => ({ file: 'mkfs.btrfs', args: ['-q', image] }),
  // `-o loop` attaches a loop device with autoclear, so unmounting also detaches it.
  mount: (image: string, mountPoint: string): Command => ({
    file: 'mount',
    args: ['-t', 'btrfs', '-o', 'loop', image, mountPoint],
  }),
  unmount: (mountPoint: string): Command => ({ file: 'umount', args: [mountPoint] }),
  createSubvolume: (path: string): Command => ({ file: 'btrfs', args: ['subvolume', 'create', path] }),
  snapshot: (source: string, target: string, readOnly: boolean): Command => ({
    file: 'btrfs',
    args: ['subvolume', 'snapshot', ...(readOnly ? ['-r'] : []), source, target],
  }),
  deleteSubvolume: (path: string): Command => ({ file: 'btrfs', args: ['subvolume', 'delete', path] }),
  // Data still in the page cache has no extents yet, so `filesystem du` would not count it.
  syncFilesystem: (path: string): Command => ({ file: 'btrfs', args: ['filesystem', 'sync', path] }),
  // One summary line per path, in bytes: Total, Exclusive and Set shared, then the path.
  filesystemDu: (paths: readonly string[]): Command => ({
    file: 'btrfs',
    args: ['filesystem', 'du', '-s', '--raw', ...paths],
  }),
};

/** One summary line of `btrfs filesystem du -s --raw`. */
export interface FilesystemDuLine {
  totalBytes: number;
  exclusiveBytes: number;
  /** Bytes shared with files outside the path, counted once within it. */
  setSharedBytes: number;
  path: string;
}

/**
 * Reads the summary lines of `btrfs filesystem du -s --raw`, skipping the header. The path is the
 * rest of the line, so paths with spaces survive.
 */
export function parseFilesystemDu(text: string): FilesystemDuLine[] {
  return text.split('\n').flatMap((line) => {
    const match = /^\s*([0-9]+)\s+([0-9]+)\s+([0-9]+)\s+(.+)$/.exec(line);
    if (match === null) return [];
    const [, total = '', exclusive = '', shared = '', path = ''] = match;
    return [{ totalBytes: Number(total), exclusiveBytes: Number(exclusive), setSharedBytes: Number(shared), path }];
  });
}

/** Options of {@link BtrfsBackend}. */
export interface BtrfsBackendOptions {
  /** The directory that holds `pool.img` and the mount point `pool`. */
  root: string;
  /**
   * Size of the pool image when it is first created; an existing image keeps its size.
   *
   * @default DEFAULT_POOL_SIZE_BYTES (32 GiB, sparse)
   */
  poolSizeBytes?: number;
}

/**
 * Copy-on-write storage: a btrfs filesystem in a sparse image file `<root>/pool.img`, loop-mounted at
 * `<root>/pool`. Datasets are subvolumes, snapshots read-only snapshots, clones writable snapshots of
 * a snapshot, so each takes the same time whatever the data size. Needs root (mount) and btrfs-progs.
 */
export class BtrfsBackend extends BaseStorageBackend {
  readonly kind = 'btrfs';
  /** The pool's image file. */
  readonly imagePath: string;
  private readonly poolSizeBytes: number;

  constructor(options: BtrfsBackendOptions) {
    super(options.root);
    this.imagePath = join(this.root, 'pool.img');
    this.poolSizeBytes = options.poolSizeBytes ?? DEFAULT_POOL_SIZE_BYTES;
    if (!Number.isSafeInteger(this.poolSizeBytes) || this.poolSizeBytes < MIN_POOL_SIZE_BYTES) {
      throw new SnapflowError(
        ErrorNames.Validation,
        `pool size ${this.poolSizeBytes} bytes is too small or not whole`,
        {
          action: `Give a whole number of bytes of at least ${MIN_POOL_SIZE_BYTES} (256 MiB).`,
          field: 'poolSizeBytes',
        },
      );
    }
  }

  protected async openPool(): Promise<void> {
    await this.ensureImage();
    await mkdir(this.poolPath, { recursive: true, mode: 0o700 });
    if ((await this.mountedPool()) === undefined) await runCommand(btrfsCommands.mount(this.imagePath, this.poolPath));
  }

  protected async closePool(): Promise<void> {
    if (!(await pathExists(this.poolPath))) return;
    if ((await this.mountedPool()) === undefined) return;
    await runCommand(btrfsCommands.unmount(this.poolPath));
  }

  protected async destroyPool(): Promise<void> {
    await rm(this.imagePath, { force: true });
    await rm(partialImagePath(this.imagePath), { force: true });
    // rmdir, not rm -r: should the pool somehow still be mounted, this fails instead of deleting data.
    await rmdir(this.poolPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  protected async makeDataset(path: string): Promise<void> {
    await runCommand(btrfsCommands.createSubvolume(path));
  }

  protected async makeCopy(source: string, target: string, readOnly: boolean): Promise<void> {
    await runCommand(btrfsCommands.snapshot(source, target, readOnly));
  }

  protected async removeTree(path: string): Promise<void> {
    await runCommand(btrfsCommands.deleteSubvolume(path));
  }

  removalCommand(path: string): string {
    return `btrfs subvolume delete ${shellQuote(path)}`;
  }

  protected async measureTrees(paths: readonly string[]): Promise<TreeUsage> {
    await runCommand(btrfsCommands.syncFilesystem(this.poolPath));
    const output = await runCommand(btrfsCommands.filesystemDu(paths));
    const lines = parseFilesystemDu(output);
    if (lines.length !== paths.length)
      throw new SnapflowError(
        ErrorNames.Storage,
        `btrfs filesystem du answered ${lines.length} summary lines for ${paths.length} paths`,
        { action: 'Check that btrfs-progs is installed and recent (5.x or later).', output: output.slice(-4096) },
      );
    const sum = (pick: (line: FilesystemDuLine) => number) => lines.reduce((total, line) => total + pick(line), 0);
    return {
      totalBytes: sum((line) => line.totalBytes),
      exclusiveBytes: sum((line) => line.exclusiveBytes),
      sharedBytes: sum((line) => line.setSharedBytes),
      exact: true,
    };
  }

  /** Creates and formats the image unless it exists; formatting under another name makes it all or nothing. */
  private async ensureImage(): Promise<void> {
    if (await pathExists(this.imagePath)) return;
    const partial = partialImagePath(this.imagePath);
    const handle = await open(partial, 'w', 0o600);
    try {
      await handle.truncate(this.poolSizeBytes);
    } finally {
      await handle.close();
    }
    await runCommand(btrfsCommands.format(partial));
    await rename(partial, this.imagePath);
  }

  /**
   * The mount on the pool directory, or undefined when there is none.
   *
   * @throws StorageError when something other than this pool's image is mounted there
   */
  private async mountedPool(): Promise<MountEntry | undefined> {
    const mount = await findMount(await realpath(this.poolPath));
    if (mount === undefined) return undefined;
    const image = await realpath(this.imagePath).catch(() => this.imagePath);
    if (mount.fsType === 'btrfs' && (await loopBackingFile(mount.source)) === image) return mount;
    throw new SnapflowError(
      ErrorNames.Storage,
      `${this.poolPath} has ${mount.source} (${mount.fsType}) mounted on it, not the pool image ${this.imagePath}`,
      { action: 'Unmount it yourself or choose another engine root; the engine only unmounts what it mounted.' },
    );
  }
}

function partialImagePath(image: string): string {
  return `${image}.partial`;
}

/** The file behind a loop device such as `/dev/loop3`, or undefined for any other device. */
async function loopBackingFile(device: string): Promise<string | undefined> {
  const name = basename(device);
  if (!/^loop[0-9]+$/.test(name)) return undefined;
  const text = await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').catch(() => undefined);
  return text?.trim();
}
