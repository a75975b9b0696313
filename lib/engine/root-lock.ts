import { randomBytes } from 'node:crypto';
import { link, open, readdir, readFile, realpath, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorNames, SnapflowError } from '../core/errors';

/** An engine root held by this process. */
export interface RootLock {
  release(): Promise<void>;
}

/** Options of {@link lockRoot}. */
export interface LockRootOptions {
  /**
   * How long to wait while another process is in the middle of taking over a stale lock.
   *
   * @default 10 s
   */
  timeoutMs?: number;
}

/** What a lock file (or a takeover claim) records about its holder. */
interface Holder {
  pid: number;
  /** The holder's start time from /proc, so a reused pid does not pass for the holder. */
  startTime?: string;
  /** Unique to this one file: names it in takeover claims, and lets its holder recognize it. */
  nonce?: string;
}

/** A lock file or claim as read: its holder, if it names one, and the identity it is known by. */
interface LockFile {
  holder?: Holder;
  /** The nonce; for a file without one (written by an earlier version), its inode. */
  identity: string;
}

const LOCK_NAME = 'engine.lock';
/** `engine.lock.takeover-<identity>`: held by the one process allowed to remove that stale lock. */
const CLAIM_INFIX = '.takeover-';
/** `.engine.lock.tmp-<pid>-<hex>`: a lock or claim written in full before it is linked into place. */
const TEMP_PREFIX = '.engine.lock.tmp-';
const NONCE_PATTERN = /^[0-9a-f]{32}$/;
const DEFAULT_TIMEOUT_MS = 10_000;

const heldInThisProcess = new Set<string>();

/**
 * Takes `<root>/engine.lock`, so that two engines never write one root's metadata. A lock left by a
 * process that is gone (killed, crashed) is taken over. Exactly one of any number of processes racing
 * for a root wins, however they interleave:
 *
 * - A lock file is written in full under a temporary name and then hard-linked into place, so it
 *   appears complete or not at all; link(2) fails if a lock exists, so it never replaces one.
 * - Each lock file carries a nonce. A stale one may only be removed by the process that first creates
 *   the claim `engine.lock.takeover-<nonce>` (also by link), and only after reading the lock again and
 *   finding the same nonce. Since only that claimant may remove that file, and nonces never repeat,
 *   no racer can remove a lock another has just taken. A claimant that died mid-takeover leaves a
 *   stale claim, which is taken over the same way.
 * - The winner reads the lock back before it trusts it, and then clears claims and temporary files
 *   that dead racers left.
 *
 * @throws ConflictError when a live engine, in this process or another, holds the root, or when a
 *   takeover by another process does not finish in time
 */
export async function lockRoot(root: string, options: LockRootOptions = {}): Promise<RootLock> {
  const key = await realpath(root);
  const path = join(key, LOCK_NAME);
  if (heldInThisProcess.has(key)) throw inUse(root, process.pid);
  heldInThisProcess.add(key);
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const nonce = newNonce();
  const self: Holder = { pid: process.pid, ...(await startTimeOf(process.pid)), nonce };
  let acquired = false;
  const temporary = await writeTemporary(key, self).catch((error: unknown) => {
    heldInThisProcess.delete(key);
    throw error;
  });
  try {
    for (;;) {
      if (Date.now() > deadline) throw inUse(root, undefined);
      if (await linkExclusive(temporary, path)) {
        const readBack = await readLockFile(path);
        if (readBack?.identity !== nonce)
          throw new SnapflowError(ErrorNames.Storage, `the engine lock ${path} changed right after it was taken`, {
            action: 'Check that no other program writes the engine root, and that its filesystem supports hard links.',
          });
        acquired = true;
        await sweepLeftovers(key, nonce);
        return {
          async release() {
            if (!heldInThisProcess.delete(key)) return;
            // Only ever our own file: no one else removes it while we live, but check all the same.
            if ((await readLockFile(path))?.identity === nonce) await unlinkIfPresent(path);
          },
        };
      }
      const current = await readLockFile(path);
      if (current === undefined) continue;
      if (current.holder !== undefined && (await isAlive(current.holder))) throw inUse(root, current.holder.pid);
      if ((await removeStale(path, current.identity)) === 'busy') await sleep(5 + Math.random() * 20);
    }
  } finally {
    await unlinkIfPresent(temporary);
    if (!acquired) heldInThisProcess.delete(key);
  }
}

/**
 * Removes the lock (or claim) at `path` if it is still the stale one known as `identity`, provided this
 * process wins the claim on it. Says `busy` when a live process holds that claim; `retry` otherwise.
 */
async function removeStale(path: string, identity: string): Promise<'retry' | 'busy'> {
  const claim = `${path}${CLAIM_INFIX}${identity}`;
  const directory = join(path, '..');
  const temporary = await writeTemporary(directory, {
    pid: process.pid,
    ...(await startTimeOf(process.pid)),
    nonce: newNonce(),
  });
  try {
    if (!(await linkExclusive(temporary, claim))) {
      const claimant = await readLockFile(claim);
      if (claimant === undefined) return 'retry';
      if (claimant.holder !== undefined && (await isAlive(claimant.holder))) return 'busy';
      // The claimant died mid-takeover; its claim is stale in turn.
      await removeStale(claim, claimant.identity);
      return 'retry';
    }
    try {
      // Only the holder of this claim may remove the file known as `identity`, so it cannot change
      // between this read and the unlink.
      if ((await readLockFile(path))?.identity === identity) await unlinkIfPresent(path);
    } finally {
      await unlinkIfPresent(claim);
    }
    return 'retry';
  } finally {
    await unlinkIfPresent(temporary);
  }
}

/**
 * Clears what dead racers left in the root: claims (none can matter once the lock is ours; a racer
 * still using one finds our lock and leaves it alone) and temporary files of processes that are gone.
 */
async function sweepLeftovers(directory: string, ownNonce: string): Promise<void> {
  for (const name of await readdir(directory).catch(() => [] as string[])) {
    if (name.startsWith(`${LOCK_NAME}${CLAIM_INFIX}`) && !name.startsWith(`${LOCK_NAME}${CLAIM_INFIX}${ownNonce}`))
      await unlinkIfPresent(join(directory, name));
    const pid = /^\.engine\.lock\.tmp-([0-9]+)-/.exec(name)?.[1];
    if (pid !== undefined && !(await isAlive({ pid: Number(pid) }))) await unlinkIfPresent(join(directory, name));
  }
}

/** Writes `holder` in full to a new temporary file in `directory` and returns its path. */
async function writeTemporary(directory: string, holder: Holder): Promise<string> {
  const path = join(directory, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(JSON.stringify(holder));
    await file.sync();
  } finally {
    await file.close();
  }
  return path;
}

/** Gives `source` the name `target` unless `target` exists; true when it did. */
async function linkExclusive(source: string, target: string): Promise<boolean> {
  try {
    await link(source, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The lock file or claim at `path`, or undefined when there is none. */
async function readLockFile(path: string): Promise<LockFile | undefined> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { ino } = await file.stat({ bigint: true });
    const holder = parseHolder(await file.readFile('utf8'));
    const nonce = holder?.nonce;
    return {
      ...(holder === undefined ? {} : { holder }),
      identity: nonce !== undefined && NONCE_PATTERN.test(nonce) ? nonce : `inode-${ino}`,
    };
  } finally {
    await file.close();
  }
}

/** The holder a lock names; undefined for a file that names none (empty, or not JSON). */
function parseHolder(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
    return {
      pid: value.pid,
      ...(typeof value.startTime === 'string' ? { startTime: value.startTime } : {}),
      ...(typeof value.nonce === 'string' ? { nonce: value.nonce } : {}),
    };
  } catch {
    return undefined;
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

function inUse(root: string, pid: number | undefined): SnapflowError {
  const who = pid === undefined ? 'another engine (it is taking over a stale lock)' : `the engine in process ${pid}`;
  return new SnapflowError(ErrorNames.Conflict, `the engine root ${root} is in use by ${who}`, {
    action: 'Stop that engine first, or give this one another root.',
  });
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

function newNonce(): string {
  return randomBytes(16).toString('hex');
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
