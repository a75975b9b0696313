import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { mountPointsBelow } from '../support/local-session';

const root = join(__dirname, '..', '..');
const run = promisify(execFile);

/** The bash block under "### Worked example" in README.md. */
async function workedExample(): Promise<string> {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const block = /^### Worked example\n[\s\S]*?^```bash\n([\s\S]*?)^```$/m.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no bash block under "### Worked example"');
  return block;
}

/**
 * Runs bash in a process group of its own, so that everything it starts can be stopped together. The
 * group is known at once, and `done` settles when bash exits, with what it wrote by then or within 2 s
 * after: a background process the script failed to stop may hold the output open indefinitely.
 */
function bash(
  script: string,
  env: NodeJS.ProcessEnv,
): { pid: number; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: root, env, detached: true });
  let out = '';
  const collect = (chunk: Buffer) => {
    out += chunk.toString('utf8');
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const done = new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', async (code) => {
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
      resolve({ code, out });
    });
  });
  return { pid: child.pid as number, done };
}

/** Stops what is left of the process group: SIGTERM (up stops cleanly), then SIGKILL after 30 s. */
async function stopGroup(pid: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(-pid, 'SIGTERM');
  for (let waited = 0; waited < 30_000 && alive(); waited += 200) await new Promise((r) => setTimeout(r, 200));
  if (alive()) process.kill(-pid, 'SIGKILL');
}

describe('README worked example', () => {
  it('runs as written against a temporary home', async () => {
    const work = await mkdtemp(join(tmpdir(), 'snapflow-readme-'));
    // mktemp -d in the block makes the home under TMPDIR, so all it leaves is below `work`.
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: work };
    for (const name of ['SNAPFLOW_HOME', 'SNAPFLOW_API_URL', 'SNAPFLOW_API_TOKEN']) delete env[name];
    let pid: number | undefined;
    try {
      const started = bash(await workedExample(), env);
      pid = started.pid;
      const result = await started.done;

      expect(result.code, result.out).toBe(0);
      expect(result.out).toMatch(/^version 1$[\s\S]*^version 1$[\s\S]*^version 2$/m);
      expect(result.out).toMatch(/^rollback-[0-9a-f]{16} SUCCEEDED/m);
      expect(result.out).toContain('Stopped.');
    } finally {
      if (pid !== undefined) await stopGroup(pid);
      for (const mount of (await mountPointsBelow(work)).sort().reverse()) await run('umount', [mount]);
      await rm(work, { recursive: true, force: true });
    }
  });
});
