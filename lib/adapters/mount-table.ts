import { readFile } from 'node:fs/promises';
import { isAbsolute, posix } from 'node:path';

/** Where the kernel describes this process's mounts (see proc(5)). */
const MOUNTINFO_PATH = '/proc/self/mountinfo';

/** One line of `/proc/self/mountinfo`. */
export interface MountEntry {
  /** Field 3, `major:minor` of the mounted filesystem: equal for every mount of one filesystem. */
  device: string;
  /**
   * Field 4: the directory of the filesystem that is the root of this mount. `/` for a plain mount;
   * for a bind mount, the path bound, relative to its filesystem (for btrfs, to the top-level subvolume).
   */
  root: string;
  /** Field 5: where it is mounted. */
  mountPoint: string;
  fsType: string;
  /** The mounted device, e.g. `/dev/loop3`. */
  source: string;
}

/**
 * Parses `/proc/self/mountinfo` (see proc(5)): optional fields end at a lone `-`, and paths escape
 * space, tab, newline and backslash as octal (`\040`). Lines it cannot read are skipped.
 */
export function parseMountInfo(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      const fields = line.split(' ');
      const separator = fields.indexOf('-', 6);
      const [, , device, root, mountPoint] = fields;
      const fsType = fields[separator + 1];
      const source = fields[separator + 2];
      if (
        separator < 0 ||
        device === undefined ||
        root === undefined ||
        mountPoint === undefined ||
        fsType === undefined ||
        source === undefined
      )
        return [];
      return [
        {
          device,
          root: unescapeOctal(root),
          mountPoint: unescapeOctal(mountPoint),
          fsType,
          source: unescapeOctal(source),
        },
      ];
    });
}

/** This process's mounts, in mount order; none where there is no /proc (not Linux). */
export async function readMountTable(path = MOUNTINFO_PATH): Promise<MountEntry[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return parseMountInfo(text);
}

/** The mount at exactly `mountPoint` (the topmost, if several are stacked), or undefined. */
export async function findMount(mountPoint: string): Promise<MountEntry | undefined> {
  return (await readMountTable()).filter((entry) => entry.mountPoint === mountPoint).at(-1);
}

/** Mount points at or below `directory` (an absolute, normalized path), in mount order. */
export async function mountPointsBelow(directory: string): Promise<string[]> {
  return (await readMountTable())
    .map((entry) => entry.mountPoint)
    .filter((mountPoint) => isAtOrBelow(mountPoint, directory));
}

/** A mount through which a tree is reachable elsewhere, or that sits on or inside the tree. */
export interface MountOfTree {
  mountPoint: string;
  /** `bind`: the tree (or a directory in it) is mounted at `mountPoint`; `inside`: something is mounted on or in the tree. */
  how: 'bind' | 'inside';
}

/**
 * The mounts that use the tree at `path` (absolute, symlinks resolved), as `entries` describe them:
 * mounts whose root is the tree or a directory in it, on the filesystem that holds the tree (a bind
 * mount of it, or of a btrfs subvolume it is, shows up so even though its source names only the
 * device), and mounts whose mount point is the tree or lies in it. Deleting the tree under either
 * kind would leave a mount showing an empty or vanished tree.
 */
export function mountsOfTree(path: string, entries: readonly MountEntry[]): MountOfTree[] {
  const target = posix.normalize(path);
  if (!isAbsolute(target)) throw new Error(`mountsOfTree needs an absolute path, not ${JSON.stringify(path)}`);
  // The filesystem holding the tree: the mount on the deepest mount point above it (the topmost of
  // those stacked there). A mount on the tree's own path only hides it; it is reported below.
  let holder: MountEntry | undefined;
  for (const entry of entries)
    if (
      entry.mountPoint !== target &&
      isAtOrBelow(target, entry.mountPoint) &&
      entry.mountPoint.length >= (holder?.mountPoint.length ?? 0)
    )
      holder = entry;
  const found: MountOfTree[] = [];
  if (holder !== undefined) {
    const inFilesystem = posix.join(holder.root, posix.relative(holder.mountPoint, target));
    for (const entry of entries)
      if (entry !== holder && entry.device === holder.device && isAtOrBelow(entry.root, inFilesystem))
        found.push({ mountPoint: entry.mountPoint, how: 'bind' });
  }
  for (const entry of entries)
    if (isAtOrBelow(entry.mountPoint, target) && !found.some((mount) => mount.mountPoint === entry.mountPoint))
      found.push({ mountPoint: entry.mountPoint, how: 'inside' });
  return found;
}

function isAtOrBelow(path: string, directory: string): boolean {
  if (directory === '/') return path.startsWith('/');
  return path === directory || path.startsWith(`${directory}/`);
}

function unescapeOctal(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
