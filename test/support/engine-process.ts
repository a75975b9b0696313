import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');
const TSX = join(REPO, 'node_modules/.bin/tsx');

/** A running engine process; detached, so that it and everything it spawned form one process group. */
export interface EngineProcess {
  child: ChildProcess;
  url: string;
  /** What it has written to stderr so far. */
  stderr: () => string;
}

export interface EngineProcessOptions {
  root: string;
  backend: 'btrfs' | 'dir' | 'auto';
  token: string;
  /** @default 0, any free port */
  port?: number;
  /** More of lib/engine/main.ts's variables, e.g. SNAPFLOW_ENGINE_SSH_HOSTS. */
  environment?: Record<string, string>;
}

/** Spawns `tsx lib/engine/main.ts` and waits for its `listening` line. */
export async function startEngineProcess(options: EngineProcessOptions): Promise<EngineProcess> {
  const child = spawn(TSX, ['lib/engine/main.ts'], {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...options.environment,
      SNAPFLOW_ENGINE_ROOT: options.root,
      SNAPFLOW_ENGINE_BACKEND: options.backend,
      SNAPFLOW_ENGINE_TOKEN: options.token,
      SNAPFLOW_ENGINE_PORT: String(options.port ?? 0),
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the engine did not start within 60 s:\n${stderr}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^snapflow-engine listening (\S+)$/m.exec(stdout);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      resolveUrl(match[1]);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the engine exited with ${code} before listening:\n${stderr}`));
    });
  });
  return { child, url, stderr: () => stderr };
}

/** Kills the engine's whole process group (tsx, node, and any cp or btrfs they run) and waits until it is gone. */
export async function killGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const pid = child.pid as number;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
  await waitForGroupGone(pid);
}

/** Waits until no live process is left in the group; zombies count as gone, since nothing may reap them. */
export async function waitForGroupGone(group: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (!(await groupHasLiveProcess(group))) return;
    await new Promise((resolveSleep) => setTimeout(resolveSleep, 50));
  }
  throw new Error(`process group ${group} did not exit`);
}

async function groupHasLiveProcess(group: number): Promise<boolean> {
  for (const name of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === group && fields[0] !== 'Z') return true;
  }
  return false;
}
