import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

// For the clean-ups of run.ts and session.ts, so that mountinfo is parsed in one place. They check
// fresh temporary directories, on which nothing is mounted, so "at or below" means "below" there.
export { mountPointsBelow } from '../lib/adapters/mount-table';

/**
 * Runs a program to its end and resolves to its standard output.
 * @throws Error with the command and the tail of its stderr when it fails; AbortError when aborted
 */
export function exec(file: string, args: readonly string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code, killedBy) => {
      if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
      const detail = Buffer.concat(stderr).toString('utf8').trim().slice(-2000);
      reject(new Error(`${file} ${args.join(' ')} ended with ${code ?? killedBy}: ${detail}`));
    });
  });
}

/** Writes all dirty data to disk, so that a measurement does not pay for the writeback of the one before. */
export async function flush(signal?: AbortSignal): Promise<void> {
  // Twice: the first pass writes the btrfs pool into its image file's page cache, the second the image.
  await exec('sync', [], signal);
  await exec('sync', [], signal);
}

/** Runs `action` and resolves to its result and wall time in milliseconds. */
export async function timed<T>(action: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await action();
  return { ms: performance.now() - start, result };
}
