/** One entry of a directory tree, as far as virtualization must preserve it. */
export interface TreeEntry {
  /** Path relative to the tree root, `/`-separated. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission bits, including setuid/setgid/sticky. */
  mode: number;
  size?: number;
  sha256?: string;
  /** Whole seconds; symlink times are not compared (not every copy tool keeps them). */
  mtimeSec?: number;
  /** Symlink target. */
  target?: string;
  /** For files with several names in the tree: the first of those names, the same for all of them. */
  linkGroup?: string;
}

export type TreeManifest = readonly TreeEntry[];

/** A difference between two manifests, for a person to read. */
export interface TreeDifference {
  path: string;
  what: string;
}

/** Lists how `actual` differs from `expected` (at most `limit` entries). Both must be sorted by path. */
export function diffTrees(expected: TreeManifest, actual: TreeManifest, limit = 20): TreeDifference[] {
  const differences: TreeDifference[] = [];
  const byPath = new Map(actual.map((entry) => [entry.path, entry]));
  for (const want of expected) {
    if (differences.length >= limit) return differences;
    const got = byPath.get(want.path);
    byPath.delete(want.path);
    if (got === undefined) {
      differences.push({ path: want.path, what: 'missing' });
      continue;
    }
    const fields = (Object.keys(want) as (keyof TreeEntry)[]).filter((key) => want[key] !== got[key]);
    const extra = (Object.keys(got) as (keyof TreeEntry)[]).filter((key) => !(key in want));
    for (const key of [...fields, ...extra])
      differences.push({ path: want.path, what: `${key}: expected ${String(want[key])}, got ${String(got[key])}` });
  }
  for (const path of byPath.keys()) {
    if (differences.length >= limit) break;
    differences.push({ path, what: 'unexpected' });
  }
  return differences.slice(0, limit);
}
