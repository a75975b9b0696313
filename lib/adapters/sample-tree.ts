import { chmod, link, mkdir, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Names that trip up naive copy tools: spaces, quotes, non-ASCII, a newline. */
const AWKWARD_NAMES = [
  'name with spaces.txt',
  "it's quoted.txt",
  'double "quoted".txt',
  'café-日本語-ünïcödé.txt',
  'new\nline.txt',
  '-starts-with-dash.txt',
];

const MODES = [0o644, 0o600, 0o755, 0o640, 0o444, 0o700];

/** What {@link writeSampleTree} made, for the demo to report. */
export interface SampleTreeSummary {
  files: number;
  directories: number;
  bytes: number;
}

/**
 * Writes a reproducible tree under `root` (which must not exist yet): nested directories holding
 * `fileCount` small files with varied modes and fixed mtimes, an empty directory, a symlink, a hard
 * link, awkward names, a 0-byte file and one large file of `largeFileBytes`.
 */
export async function writeSampleTree(
  root: string,
  options: { fileCount?: number; largeFileBytes?: number } = {},
): Promise<SampleTreeSummary> {
  const fileCount = options.fileCount ?? 1200;
  const largeFileBytes = options.largeFileBytes ?? 9 * 1024 * 1024;
  const random = seededRandom(42);
  let files = 0;
  let directories = 0;
  let bytes = 0;

  await mkdir(root, { recursive: false });
  const perDirectory = 40;
  for (let index = 0; index < fileCount; index++) {
    const directory = join(
      root,
      `dir-${Math.floor(index / perDirectory / 5)}`,
      `sub-${Math.floor(index / perDirectory) % 5}`,
    );
    if (index % perDirectory === 0) {
      await mkdir(directory, { recursive: true });
      directories++;
    }
    const size = Math.floor(random() * 4096);
    const file = join(directory, `file-${index}.dat`);
    await writeFile(file, pseudoRandomBytes(random, size));
    await chmod(file, MODES[index % MODES.length] ?? 0o644);
    await utimes(file, 1_600_000_000 + index, 1_600_000_000 + index);
    files++;
    bytes += size;
  }

  await mkdir(join(root, 'empty-dir'));
  await mkdir(join(root, 'odd names'));
  directories += 2;
  const put = async (path: string, data: string | Buffer, mode = 0o644) => {
    await writeFile(join(root, path), data);
    await chmod(join(root, path), mode);
    files++;
    bytes += Buffer.byteLength(data);
  };
  for (const name of AWKWARD_NAMES) await put(join('odd names', name), `content of ${name}\n`);
  await put('zero-bytes', '');
  await put('setuid-script.sh', '#!/bin/sh\necho hello\n', 0o4755);
  await put('large.bin', pseudoRandomBytes(random, largeFileBytes));
  await link(join(root, 'large.bin'), join(root, 'large-hardlink.bin'));
  await symlink('dir-0/sub-0/file-0.dat', join(root, 'link-to-first'));
  await symlink('does-not-exist', join(root, 'dangling-link'));
  return { files, directories, bytes };
}

/** What {@link changeSampleTree} did. */
export interface SampleTreeChange {
  added: string[];
  modified: string[];
  deleted: string[];
}

/** Adds, modifies and deletes files and a directory in a tree made by {@link writeSampleTree}. */
export async function changeSampleTree(root: string): Promise<SampleTreeChange> {
  const added = ['added/new-file.txt', 'dir-0/sub-0/added.dat'];
  const modified = ['dir-0/sub-0/file-1.dat', 'large.bin'];
  const deleted = ['dir-0/sub-0/file-2.dat', 'odd names/name with spaces.txt', 'dir-5'];
  await mkdir(join(root, 'added'));
  await writeFile(join(root, 'added/new-file.txt'), 'added after the first sync\n');
  await writeFile(join(root, 'dir-0/sub-0/added.dat'), 'another new file\n');
  await writeFile(join(root, 'dir-0/sub-0/file-1.dat'), 'modified content\n');
  // Changing the large file in place keeps its hard link pointing at the same, changed, content.
  await truncate(join(root, 'large.bin'), 1024 * 1024);
  await chmod(join(root, 'dir-0/sub-0/file-3.dat'), 0o711);
  modified.push('dir-0/sub-0/file-3.dat (mode)');
  for (const path of deleted) await rm(join(root, path), { recursive: true });
  return { added, modified, deleted };
}

/** A small deterministic generator (mulberry32), so every run builds the same tree. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pseudoRandomBytes(random: () => number, size: number): Buffer {
  const buffer = Buffer.alloc(size);
  for (let offset = 0; offset + 4 <= size; offset += 4) buffer.writeUInt32LE(Math.floor(random() * 4294967296), offset);
  for (let offset = size - (size % 4); offset < size; offset++) buffer[offset] = Math.floor(random() * 256);
  return buffer;
}
