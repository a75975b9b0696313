import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempRoot, removeTempRoot } from '../../support/engine-temp-root';

const REPO = resolve(__dirname, '../../..');
const TSX = join(REPO, 'node_modules/.bin/tsx');

/** Runs `lib/engine/main.ts` with `env` added; resolves with its exit code and stderr. */
function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(TSX, ['lib/engine/main.ts'], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => resolveRun({ code, stderr }));
  });
}

describe('engine main', () => {
  let temp: string;

  beforeEach(async () => {
    temp = await makeTempRoot('main');
  });

  afterEach(async () => {
    await removeTempRoot(temp);
  });

  it.each([
    ['SNAPFLOW_ENGINE_SSH_HOSTS', 'yes', 'SNAPFLOW_ENGINE_SSH_HOSTS "yes" is not true or false'],
    ['SNAPFLOW_ENGINE_POOL_BYTES', '1G', 'SNAPFLOW_ENGINE_POOL_BYTES "1G" is not a size in bytes'],
  ])('exits 2 naming %s for %j, touching nothing', async (name, value, message) => {
    const { code, stderr } = await runMain({
      SNAPFLOW_ENGINE_ROOT: join(temp, 'engine'),
      SNAPFLOW_ENGINE_TOKEN: 'main-test-token-0123456789abcdef',
      [name]: value,
    });
    expect(code).toBe(2);
    expect(JSON.parse(stderr.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ code: 'ValidationError', message });
    expect(await readdir(temp)).toEqual([]);
  });

  it('exits 2 with a clear message for an unknown SNAPFLOW_ENGINE_BACKEND, touching nothing', async () => {
    const root = join(temp, 'engine');
    const { code, stderr } = await runMain({
      SNAPFLOW_ENGINE_ROOT: root,
      SNAPFLOW_ENGINE_TOKEN: 'main-test-token-0123456789abcdef',
      SNAPFLOW_ENGINE_BACKEND: 'zfs',
    });
    expect(code).toBe(2);
    const logged = JSON.parse(stderr.trim().split('\n').at(-1) ?? '{}');
    expect(logged).toMatchObject({
      level: 'error',
      code: 'ValidationError',
      message: 'SNAPFLOW_ENGINE_BACKEND "zfs" is not a storage backend',
      action: expect.stringContaining('auto, btrfs, dir'),
    });
    expect(await readdir(temp)).toEqual([]);
  });
});
