import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TreeEntry, TreeManifest } from '../core/tree-diff';

/**
 * Reads a directory tree into a manifest: every entry below `root` (not `root` itself, whose
 * attributes belong to the mount) with type, mode, size, content hash, mtime, symlink target and
 * hard-link group. Sorted by path, so two manifests compare entry by entry.
 */
export async function readTreeManifest(root: string): Promise<TreeManifest> {
  const entries: TreeEntry[] = [];
  const firstNameOfInode = new Map<string, string>();
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(join(root, relative))).sort();
    for (const name of names) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const full = join(root, path);
      const stat = await lstat(full);
      const mode = stat.mode & 0o7777;
      if (stat.isSymbolicLink()) {
        entries.push({ path, type: 'symlink', mode, target: await readlink(full) });
      } else if (stat.isDirectory()) {
        entries.push({ path, type: 'dir', mode, mtimeSec: Math.floor(stat.mtimeMs / 1000) });
        await walk(path);
      } else if (stat.isFile()) {
        const entry: TreeEntry = {
          path,
          type: 'file',
          mode,
          size: stat.size,
          sha256: await hashFile(full),
          mtimeSec: Math.floor(stat.mtimeMs / 1000),
        };
        if (stat.nlink > 1) {
          const inode = `${stat.dev}:${stat.ino}`;
          const first = firstNameOfInode.get(inode) ?? path;
          firstNameOfInode.set(inode, first);
          entry.linkGroup = first;
        }
        entries.push(entry);
      } else {
        entries.push({ path, type: 'other', mode });
      }
    }
  };
  await walk('');
  // A hard link seen only once inside the tree links to something outside it: not a group here.
  const groupSizes = new Map<string, number>();
  for (const entry of entries)
    if (entry.linkGroup !== undefined) groupSizes.set(entry.linkGroup, (groupSizes.get(entry.linkGroup) ?? 0) + 1);
  for (const entry of entries)
    if (entry.linkGroup !== undefined && groupSizes.get(entry.linkGroup) === 1) delete entry.linkGroup;
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
