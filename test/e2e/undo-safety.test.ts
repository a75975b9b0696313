import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeJobError } from '../../lib/api/describe-job-error';
import type { HostRunner } from '../../lib/local/host-runner';
import { oneFileSource, poolStorage, recordedStorage, succeeded } from '../support/e2e-checks';
import { type LocalSession, startLocalSession } from '../support/local-session';

/**
 * Host situations a test arms for the next command: a process that holds a mount while the next
 * unmount runs (as a shell left in the tree would), and a mount that really mounts yet reports a
 * failure (as a mount that timed out after its bind would).
 */
class HostSituations {
  /** The next unmount finds a process working in this directory. */
  holdDuringNextUnmount: string | undefined;
  /** The next mount mounts, then fails all the same. */
  mountThenFail = false;
  private readonly holders: ChildProcess[] = [];

  readonly wrap = (runner: HostRunner): HostRunner => ({
    start: (script) => {
      const step = basename(script.commandDirectory);
      if (step === 'mount' && this.mountThenFail) {
        this.mountThenFail = false;
        // The script's own EXIT trap would undo the bind; a mount that dies after it does not.
        const text = `${script.text}trap - EXIT\necho 'snapflow-error: HostCommandFailedError: the mount failed after its bind' >&2\nexit 1\n`;
        return runner.start({ ...script, text });
      }
      const held = this.holdDuringNextUnmount;
      if (step === 'unmount' && held !== undefined && existsSync(held)) {
        this.holdDuringNextUnmount = undefined;
        this.holders.push(spawn('sleep', ['120'], { cwd: held, stdio: 'ignore' }));
      }
      return runner.start(script);
    },
  });

  /** Ends the processes holding mounts. */
  async release(): Promise<void> {
    const holders = this.holders.splice(0);
    await Promise.all(
      holders.map(
        (holder) =>
          new Promise<void>((resolve) => {
            if (holder.exitCode !== null || holder.signalCode !== null) return resolve();
            holder.once('exit', () => resolve());
            holder.kill('SIGKILL');
          }),
      ),
    );
  }
}

/**
 * An undo never deletes what may still be mounted: when its unmount fails, the dataset stays, still
 * mounted, and the execution fails with the original error and the unmount's. A sync whose last
 * unmount fails records no snapshot. Real ASL, engine, scripts and mounts.
 */
describe('undo steps that cannot unmount', () => {
  const situations = new HostSituations();
  let session: LocalSession;
  let environmentId: string;
  let sourceConfigId: string;

  beforeAll(async () => {
    session = await startLocalSession({ wrapHostRunner: situations.wrap });
    environmentId = session.local.environment.id;
    ({ sourceConfigId } = await oneFileSource(session));
  });

  afterEach(async () => {
    situations.holdDuringNextUnmount = undefined;
    situations.mountThenFail = false;
    await situations.release();
  });

  afterAll(async () => {
    await situations.release();
    await session?.close();
  });

  const engine = () => session.local.engine;
  const mnt = (...parts: string[]) => join(session.work, 'mnt', ...parts);
  const link = (name: string) =>
    session.run('link', {
      name,
      sourceConfigId,
      stagingEnvironmentId: environmentId,
      linkedSource: { sourceAddress: 'localhost', username: 'root', mountLocation: mnt(`staging-${name}`) },
    });
  const errorOf = (run: Awaited<ReturnType<LocalSession['run']>>) => {
    expect(run.status).toBe('FAILED');
    return describeJobError(run.error ?? { name: '', cause: '' });
  };

  it('sync: a last unmount that fails leaves no snapshot, and the next sync works once the mount is free', async () => {
    const { dsourceId } = succeeded<{ dsourceId: string }>(await link('sync'));
    const snapshots = (await engine().listSnapshots({ datasetId: dsourceId })).map((snapshot) => snapshot.id);
    situations.holdDuringNextUnmount = mnt('staging-sync');

    const failed = await session.run('sync', {
      dsourceId,
      snapshotParameters: { resync: false },
      trigger: { kind: 'api' },
    });

    const error = errorOf(failed);
    expect(error.code).toBe('MountPointBusyError');
    expect(error.message).toContain(`linkedSource.mountLocation ${mnt('staging-sync')} is still in use`);
    expect((await engine().listSnapshots({ datasetId: dsourceId })).map((snapshot) => snapshot.id)).toEqual(snapshots);
    expect(await poolStorage(session)).toEqual(await recordedStorage(session));
    expect(await session.mounts()).toEqual([mnt('staging-sync')]);

    await situations.release();
    succeeded(
      await session.run('sync', { dsourceId, snapshotParameters: { resync: false }, trigger: { kind: 'api' } }),
    );

    expect(await engine().listSnapshots({ datasetId: dsourceId })).toHaveLength(snapshots.length + 1);
    expect(await session.mounts()).toEqual([]);
  });

  it('link: a dSource whose storage cannot be unmounted is kept, with both errors, and can be deleted later', async () => {
    situations.holdDuringNextUnmount = mnt('staging-kept');

    const failed = await link('kept');

    const error = errorOf(failed);
    expect(error.code).toBe('MountPointBusyError');
    expect(error.message).toMatch(
      /still in use.* \(undo failed too, clean up by hand: MountPointBusyError: .*still in use/,
    );
    const [kept] = (await engine().listDSources()).filter((dsource) => dsource.name === 'kept');
    expect(kept).toBeDefined();
    expect(await engine().listSnapshots({ datasetId: kept?.id as string })).toEqual([]);
    expect(await session.mounts()).toEqual([mnt('staging-kept')]);

    await situations.release();
    succeeded(await session.run('delete-dsource', { dsourceId: kept?.id as string }));

    expect((await engine().listDSources()).map((dsource) => dsource.name)).not.toContain('kept');
    expect(await session.mounts()).toEqual([]);
    expect(await poolStorage(session)).toEqual(await recordedStorage(session));
  });

  describe('VDBs', () => {
    let snapshotId: string;

    beforeAll(async () => {
      snapshotId = succeeded<{ snapshotId: string }>(await link('vdbs')).snapshotId;
    });

    const provision = (name: string) =>
      session.run('provision', { name, snapshotId, environmentId, virtualSource: { mountLocation: mnt(name) } });

    it('provision: after a mount that failed yet mounted, the clone is unmounted and deleted', async () => {
      const vdbs = await engine().listVdbs();
      situations.mountThenFail = true;

      const error = errorOf(await provision('half-mounted'));

      expect(error.code).toBe('HostCommandFailedError');
      expect(error.message).not.toContain('undo failed too');
      expect(await engine().listVdbs()).toEqual(vdbs);
      expect(await session.mounts()).toEqual([]);
      expect(await poolStorage(session)).toEqual(await recordedStorage(session));
    });

    it('provision: a clone that cannot be unmounted is kept, mounted, with both errors, and deleted later', async () => {
      situations.mountThenFail = true;
      situations.holdDuringNextUnmount = mnt('held');

      const error = errorOf(await provision('held'));

      expect(error.code).toBe('HostCommandFailedError');
      expect(error.message).toContain('the mount failed after its bind');
      expect(error.message).toContain(
        `(undo failed too, clean up by hand: MountPointBusyError: virtualSource.mountLocation ${mnt('held')} is still in use`,
      );
      const [held] = (await engine().listVdbs()).filter((vdb) => vdb.name === 'held');
      expect(held).toBeDefined();
      expect(await session.mounts()).toEqual([mnt('held')]);

      await situations.release();
      succeeded(await session.run('delete-vdb', { vdbId: held?.id as string }));

      expect((await engine().listVdbs()).map((vdb) => vdb.name)).not.toContain('held');
      expect(await session.mounts()).toEqual([]);
    });

    it('delete-vdb: deletes nothing while the VDB cannot be unmounted, then deletes a RUNNING VDB', async () => {
      const { vdbId } = succeeded<{ vdbId: string }>(await provision('busy'));
      situations.holdDuringNextUnmount = mnt('busy');

      const error = errorOf(await session.run('delete-vdb', { vdbId }));

      expect(error.code).toBe('MountPointBusyError');
      expect(await engine().getVdb(vdbId)).toMatchObject({ status: 'RUNNING' });
      expect(await session.mounts()).toEqual([mnt('busy')]);

      await situations.release();
      succeeded(await session.run('delete-vdb', { vdbId }));

      expect((await engine().listVdbs()).map((vdb) => vdb.id)).not.toContain(vdbId);
      expect(await session.mounts()).toEqual([]);
      expect(await poolStorage(session)).toEqual(await recordedStorage(session));
    });
  });
});
