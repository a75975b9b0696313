import { createCipheriv, createHash } from 'node:crypto';
import { link, mkdir, open, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type DatasetLayout,
  type PlannedFile,
  planDataset,
  planInPlaceChange,
  planWholeFileChange,
} from './dataset-layout';
import { MiB } from './units';

/** Every file's mtime in a fresh dataset; change number n sets this plus n days. */
const BASE_MTIME = 1_700_000_000;
const CHUNK_BYTES = 8 * MiB;
const ZEROS = Buffer.alloc(CHUNK_BYTES);

/**
 * Writes the dataset of {@link planDataset} under `root` (which must not exist). File contents are
 * an AES-128-CTR keystream keyed by the path: incompressible, different in every file and every
 * run-independent, so no filesystem can make a copy cheap by sharing zeros or duplicate blocks.
 */
export async function writeDataset(root: string, sizeBytes: number, signal?: AbortSignal): Promise<DatasetLayout> {
  const layout = planDataset(sizeBytes);
  await mkdir(root);
  const directories = new Set(layout.files.map((file) => dirname(file.path)));
  for (const directory of directories) await mkdir(join(root, directory), { recursive: true });
  for (const file of layout.files) {
    signal?.throwIfAborted();
    await writeStream(join(root, file.path), file.bytes, keystream(file.path), 0, 'w');
    await utimes(join(root, file.path), BASE_MTIME, BASE_MTIME);
  }
  await link(join(root, layout.hardLink.target), join(root, layout.hardLink.path));
  await symlink(layout.symlink.target, join(root, layout.symlink.path));
  return layout;
}

/**
 * Overwrites `fraction` of the dataset's bytes in place, spread over its large files, with new data;
 * sizes stay, mtimes move on by `round` days so that a sync sees the change.
 * @returns the bytes written
 */
export async function changeInPlace(
  root: string,
  layout: DatasetLayout,
  fraction: number,
  round: number,
): Promise<number> {
  let written = 0;
  const touched = new Set<string>();
  for (const write of planInPlaceChange(layout, fraction)) {
    const stream = keystream(`${write.path}@${write.offset}#${round}`);
    await writeStream(join(root, write.path), write.bytes, stream, write.offset, 'r+');
    written += write.bytes;
    touched.add(write.path);
  }
  for (const path of touched) await utimes(join(root, path), BASE_MTIME + round * 86_400, BASE_MTIME + round * 86_400);
  return written;
}

/**
 * Rewrites whole files making up `fraction` of the dataset's bytes with new data of the same size.
 * @returns the bytes written
 */
export async function changeWholeFiles(
  root: string,
  layout: DatasetLayout,
  fraction: number,
  round: number,
): Promise<number> {
  let written = 0;
  for (const file of planWholeFileChange(layout, fraction)) {
    await writeStream(join(root, file.path), file.bytes, keystream(`${file.path}#${round}`), 0, 'w');
    await utimes(join(root, file.path), BASE_MTIME + round * 86_400, BASE_MTIME + round * 86_400);
    written += file.bytes;
  }
  return written;
}

/** Bytes of file data in a layout, as a check that a tree holds what was planned. */
export function layoutBytes(layout: DatasetLayout): number {
  return layout.files.reduce((total, file: PlannedFile) => total + file.bytes, 0);
}

type Keystream = (bytes: number) => Buffer;

/** A deterministic stream of pseudo-random bytes for `label`. */
function keystream(label: string): Keystream {
  const key = createHash('sha256').update(`snapflow-bench:${label}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return (bytes) => cipher.update(bytes === CHUNK_BYTES ? ZEROS : ZEROS.subarray(0, bytes));
}

async function writeStream(path: string, bytes: number, stream: Keystream, offset: number, flags: 'w' | 'r+') {
  const handle = await open(path, flags, 0o644);
  try {
    for (let done = 0; done < bytes; ) {
      const chunk = stream(Math.min(CHUNK_BYTES, bytes - done));
      await handle.write(chunk, 0, chunk.length, offset + done);
      done += chunk.length;
    }
  } finally {
    await handle.close();
  }
}
