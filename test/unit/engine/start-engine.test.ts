import { lstat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngineClient } from '../../../lib/adapters/engine-client';
import { ErrorNames } from '../../../lib/core/errors';
import { startEngine } from '../../../lib/engine/start-engine';
import { makeTempRoot, removeTempRoot } from '../../support/engine-temp-root';

describe('startEngine', () => {
  let temp: string;
  let root: string;

  beforeEach(async () => {
    temp = await makeTempRoot('start');
    root = join(temp, 'engine');
  });

  afterEach(async () => {
    await removeTempRoot(temp);
  });

  it('serves on loopback with a generated token and keeps records across a restart', async () => {
    // Prepare
    const first = await startEngine({ root, backend: 'dir' });
    const environment = await createEngineClient(first).createEnvironment({ name: 'local', hostId: 'local' });

    // Act
    await first.stop();
    await first.stop();
    const second = await startEngine({ root, backend: 'dir', token: first.token });

    // Assess
    try {
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:[0-9]+$/);
      expect(first.token).toMatch(/^[0-9a-f]{64}$/);
      expect(first.backend).toEqual({ kind: 'dir', reason: expect.stringMatching(/^dir backend/) });
      expect(await createEngineClient(second).listEnvironments()).toEqual([environment]);
    } finally {
      await second.destroy();
    }
    await expect(lstat(root)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a root another engine holds, and takes over a lock its dead holder left', async () => {
    // Prepare
    const holder = await startEngine({ root, backend: 'dir' });

    // Act
    const second = startEngine({ root, backend: 'dir' });

    // Assess
    try {
      await expect(second).rejects.toMatchObject({ name: ErrorNames.Conflict, message: expect.stringContaining(root) });
    } finally {
      await holder.stop();
    }
    // A lock from a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max).
    await writeFile(join(root, 'engine.lock'), JSON.stringify({ pid: 4194305 }));
    const successor = await startEngine({ root, backend: 'dir' });
    await successor.destroy();
  });

  it.each([
    [{ token: 'short' }, 'token'],
    [{ token: 'has whitespace in the token' }, 'token'],
    [{ port: 70000 }, 'port'],
  ])('refuses %j with ValidationError naming %s', async (options, field) => {
    await expect(startEngine({ root, backend: 'dir', ...options })).rejects.toMatchObject({
      name: ErrorNames.Validation,
      field,
    });
  });

  it('answers ConflictError naming the port when it is taken, and leaves the root unlocked', async () => {
    const first = await startEngine({ root: join(temp, 'first'), backend: 'dir' });
    try {
      const port = Number(new URL(first.url).port);
      await expect(startEngine({ root, backend: 'dir', port })).rejects.toMatchObject({
        name: ErrorNames.Conflict,
        field: 'port',
      });
      await expect(lstat(join(root, 'engine.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await first.destroy();
    }
  });

  it('refuses an unknown backend with UnsupportedOperationError and leaves the root unlocked', async () => {
    await expect(startEngine({ root, backend: 'zfs' as 'dir' })).rejects.toMatchObject({
      name: ErrorNames.UnsupportedOperation,
    });
    await expect(lstat(join(root, 'engine.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
