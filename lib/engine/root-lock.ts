import { open, readFile, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorNames, SnapflowError } from '../core/errors';

/** An engine root held by this process. */
export interface RootLock {
  release(): Promise<void>;
}

/** What the lock file records about its holder. */
interface Holder {
  pid: number;
  /** The holder's start time from /proc, so a reused pid does not pass for the holder. */
  startTime?: string;
}

const heldInThisProcess = new Set<string>();

/**
 * Takes `<root>/engine.lock`, so that two engines never write one root's metadata. A lock left by a
 * process that is gone (killed, crashed) is taken over.
 *
 * @throws ConflictError when a live engine, in this process or another, holds the root
 */
export async function lockRoot(root: string): Promise<RootLock> {
  const key = await realpath(root);
  const path = join(key, 'engine.lock');
  if (heldInThisProcess.has(key)) throw inUse(root, process.pid);
  const self: Holder = { pid: process.pid, ...(await startTimeOf(process.pid)) };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const file = await open(path, 'wx', 0o600);
      try {
        await file.writeFile(JSON.stringify(self));
      } finally {
        await file.close();
      }
      heldInThisProcess.add(key);
      return {
        async release() {
          if (!heldInThisProcess.delete(key)) return;
          await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readHolder(path);
      if (holder !== undefined && (await isAlive(holder))) throw inUse(root, holder.pid);
      await rm(path, { force: true });
    }
  }
  throw inUse(root, undefined);
}

function inUse(root: string, pid: number | undefined): SnapflowError {
  const who = pid === undefined ? 'another engine' : `the engine in process ${pid}`;
  return new SnapflowError(ErrorNames.Conflict, `the engine root ${root} is in use by ${who}`, {
    action: 'Stop that engine first, or give this one another root.',
  });
}

async function readHolder(path: string): Promise<Holder | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (typeof value.pid !== 'number') return undefined;
    return { pid: value.pid, ...(typeof value.startTime === 'string' ? { startTime: value.startTime } : {}) };
  } catch {
    return undefined;
  }
}

async function isAlive(holder: Holder): Promise<boolean> {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = await readProcStat(holder.pid);
  // Without /proc (not Linux) the signal check is all there is.
  if (stat === undefined) return true;
  // A zombie is dead: nothing reaps it when its parent was killed and init does not reap.
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return holder.startTime === undefined || holder.startTime === stat.startTime;
}

async function startTimeOf(pid: number): Promise<{ startTime?: string }> {
  const stat = await readProcStat(pid);
  return stat === undefined ? {} : { startTime: stat.startTime };
}

/** State and start time from /proc/<pid>/stat; the command name may hold spaces, so fields count from its `)`. */
async function readProcStat(pid: number): Promise<{ state: string; startTime: string } | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  if (state === undefined || startTime === undefined) return undefined;
  return { state, startTime };
}
