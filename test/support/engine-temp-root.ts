import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseMountInfo } from '../../lib/adapters/mount-table';

const run = promisify(execFile);

/** Whether the tests run as root, which the btrfs backend (loop mounts) needs. */
export const IS_ROOT = process.getuid?.() === 0;

/** A new empty directory for one test's engine or backend. */
export function makeTempRoot(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `snapflow-${label}-`));
}

/** Mount points at or below `root`, deepest first. */
export async function mountsUnder(root: string): Promise<string[]> {
  const entries = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  return entries
    .map((entry) => entry.mountPoint)
    .filter((mountPoint) => mountPoint === root || mountPoint.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes a temporary root even after a failed test: first unmounts whatever is still mounted below
 * it (only mounts a test made there, since the directory is the test's own), then deletes it.
 */
export async function removeTempRoot(root: string): Promise<void> {
  for (const mountPoint of await mountsUnder(root)) await run('umount', [mountPoint]);
  await rm(root, { recursive: true, force: true });
}
