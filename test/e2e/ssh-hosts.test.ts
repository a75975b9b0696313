import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineClient } from '../../lib/adapters/engine-client';
import { mountPointsBelow } from '../../lib/adapters/mount-table';
import { writeSampleTree } from '../../lib/adapters/sample-tree';
import { readTreeManifest } from '../../lib/adapters/tree-manifest';
import type { Environment } from '../../lib/core/model';
import type { TreeManifest } from '../../lib/core/tree-diff';
import { createStorageBackend } from '../../lib/engine/backends/create-storage-backend';
import type { WorkflowRun } from '../../lib/local/local-workflows';
import { type LocalMode, startLocalMode } from '../../lib/local/start-local-mode';
import { type EngineProcess, killGroup, startEngineProcess } from '../support/engine-process';
import { IS_ROOT } from '../support/engine-temp-root';
import { createTestHosts, type TestHost, type TestHosts } from '../support/test-hosts';

/**
 * Staged linking across three hosts, each a network namespace with its own sshd: the staging host
 * mounts the dSource's storage and pulls the tree from the source host over SSH; VDBs are mounted on the
 * target host. Then the faults of a bad day, one at a time: each must end in a named error or succeed,
 * record no partial copy as a snapshot, leave every earlier snapshot and the VDB as they were, and let
 * the next run succeed.
 */

const TOKEN = 'e2e-ssh-hosts-token-0123456789abcdef';
/** Long enough for every copy here, short enough that the timeout fault ends soon. */
const COPY_TIMEOUT_SECONDS = 20;
/** A pool the pool-full fault can fill in a few seconds. */
const POOL_BYTES = 1024 ** 3;
/** The source host's send rate while a fault needs a copy in progress: a 48 MiB file then takes ~10 s. */
const SLOW_RATE = '40mbit';
const BIG_FILE_BYTES = 48 * 1024 ** 2;
const sync = { snapshotParameters: { resync: false }, trigger: { kind: 'api' as const } };
const run = promisify(execFile);

describe.runIf(IS_ROOT)('staged linking across SSH hosts, and the faults of a bad day', () => {
  let work: string;
  let hosts: TestHosts;
  let source: TestHost;
  let staging: TestHost;
  let target: TestHost;
  let engineRoot: string;
  let engine: EngineProcess | undefined;
  let enginePort: number;
  let local: LocalMode;
  let environments: Record<'source' | 'staging' | 'target', Environment>;
  let dsourceId: string;
  let vdbPath: string;
  let vdbManifest: TreeManifest;
  /** Every snapshot of the dSource, with the tree it must hold. */
  const snapshots = new Map<string, TreeManifest>();
  const sourceTree = () => join(source.root, 'data');

  const startEngine = async () => {
    engine = await startEngineProcess({
      root: engineRoot,
      backend: 'btrfs',
      token: TOKEN,
      ...(enginePort === undefined ? {} : { port: enginePort }),
      environment: { SNAPFLOW_ENGINE_SSH_HOSTS: 'true', SNAPFLOW_ENGINE_POOL_BYTES: String(POOL_BYTES) },
    });
    enginePort = Number(new URL(engine.url).port);
    return engine;
  };

  beforeAll(async () => {
    hosts = await createTestHosts(['source', 'staging', 'target']);
    source = hosts.host('source');
    staging = hosts.host('staging');
    target = hosts.host('target');
    work = await mkdtemp(join(tmpdir(), 'snapflow-ssh-e2e-'));
    engineRoot = join(work, 'engine');
    const { url } = await startEngine();
    local = await startLocalMode({
      home: join(work, 'home'),
      engine: { url, token: TOKEN },
      context: { 'snapflow:copyTimeoutSeconds': COPY_TIMEOUT_SECONDS },
    });
    const register = (host: TestHost, sshClient?: Environment['sshClient']) =>
      local.engine.createEnvironment({
        name: host.name,
        hostId: `ssh-${host.name}`,
        scratchPath: join(host.root, 'scratch'),
        ssh: host.connection,
        ...(sshClient === undefined ? {} : { sshClient }),
      });
    environments = {
      source: await register(source),
      // The staging host logs in to the source host with its own key; host keys are checked.
      staging: await register(staging, { identityFile: staging.identityFile, knownHostsFile: hosts.knownHostsFile }),
      target: await register(target),
    };
    await writeSampleTree(sourceTree(), { fileCount: 120, largeFileBytes: 2 * 1024 ** 2 });
  }, 120_000);

  afterAll(async () => {
    try {
      if (hosts !== undefined) {
        await source.run(['tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
        const mounts = (await mountPointsBelow(hosts.directory)).sort().reverse();
        for (const path of mounts) await run('umount', ['-l', '--', path]);
      }
      await local?.close({ keepStorage: true });
      if (engine !== undefined) await killGroup(engine.child, 'SIGKILL');
      if (engineRoot !== undefined)
        await (await createStorageBackend({ backend: 'btrfs', root: engineRoot })).backend.destroy();
    } finally {
      await hosts?.cleanup();
      if (work !== undefined) await rm(work, { recursive: true, force: true });
    }
  }, 120_000);

  const runSync = () => local.workflows.run('sync', { dsourceId, ...sync });
  const expectSucceeded = (outcome: WorkflowRun) => {
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('SUCCEEDED');
  };

  /** Records a sync's snapshot, which must hold the source tree as it is now. */
  const expectSnapshotOfSource = async (outcome: WorkflowRun) => {
    expectSucceeded(outcome);
    const { snapshotId } = outcome.output as { snapshotId: string };
    const tree = await readTreeManifest(sourceTree());
    expect(await readTreeManifest((await local.engine.getSnapshot(snapshotId)).path)).toEqual(tree);
    snapshots.set(snapshotId, tree);
  };

  /** The guarantees after a fault: no new snapshot, every snapshot and the VDB as they were, no staging mount. */
  const expectNothingLost = async () => {
    const listed = await local.engine.listSnapshots({ datasetId: dsourceId });
    expect(listed.map((snapshot) => snapshot.id).sort()).toEqual([...snapshots.keys()].sort());
    for (const snapshot of listed) expect(await readTreeManifest(snapshot.path)).toEqual(snapshots.get(snapshot.id));
    expect(await readTreeManifest(vdbPath)).toEqual(vdbManifest);
    expect(await mountPointsBelow(hosts.directory)).toEqual([vdbPath]);
  };

  /** The processes of a host named `name` (their command, as /proc shows it). */
  const processesOf = async (host: TestHost, name: string) => {
    const named = await Promise.all(
      (await host.pids()).map(async (pid) =>
        (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() === name ? [pid] : [],
      ),
    );
    return named.flat();
  };
  /** Slows the source host down and adds a file, so that the next sync is still copying when the fault comes. */
  const slowCopyAhead = async (name: string) => {
    await writeFile(join(sourceTree(), name), randomBytes(BIG_FILE_BYTES));
    const limit = ['tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'tbf', 'rate', SLOW_RATE, 'burst', '64kb'];
    expect((await source.run([...limit, 'latency', '400ms'])).exitCode).toBe(0);
  };
  const fullSpeed = async () => {
    await source.run(['tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
  };
  /** Resolves once the source host's side of the copy (rsync started by its sshd) runs. */
  const copyRunning = async () => {
    await expect.poll(() => processesOf(source, 'rsync'), { timeout: 30_000, interval: 20 }).not.toEqual([]);
    return processesOf(source, 'rsync');
  };

  it('links a tree from the source host: the staging host pulls it over SSH with its own key', async () => {
    const sourceConfig = await local.engine.createSourceConfig({
      environmentId: environments.source.id,
      name: 'data',
      path: sourceTree(),
    });
    const outcome = await local.workflows.run('link', {
      name: 'data',
      sourceConfigId: sourceConfig.id,
      stagingEnvironmentId: environments.staging.id,
      linkedSource: { sourceAddress: source.address, username: 'root', mountLocation: join(staging.root, 'stage') },
    });

    expectSucceeded(outcome);
    dsourceId = (outcome.output as { dsourceId: string }).dsourceId;
    await expectSnapshotOfSource(outcome);
    // The copy connected from the staging host's address to the source host's sshd.
    expect(await readFile(source.sshdLogFile, 'utf8')).toMatch(
      new RegExp(`Accepted publickey for root from ${staging.address.replaceAll('.', '\\.')} `),
    );
    expect(await mountPointsBelow(hosts.directory)).toEqual([]);
  }, 60_000);

  it('provisions a VDB on the target host, mounted there and writable', async () => {
    vdbPath = join(target.root, 'vdb');
    const outcome = await local.workflows.run('provision', {
      name: 'vdb',
      snapshotId: [...snapshots.keys()][0] as string,
      environmentId: environments.target.id,
      virtualSource: { mountLocation: vdbPath },
    });

    expectSucceeded(outcome);
    expect(await readTreeManifest(vdbPath)).toEqual([...snapshots.values()][0]);
    await writeFile(join(vdbPath, 'written-on-target.txt'), 'a VDB is writable\n');
    vdbManifest = await readTreeManifest(vdbPath);
    await expectNothingLost();
  }, 60_000);

  it('source host unreachable: SourceUnreachableError after the retries, nothing recorded; works once it is back', async () => {
    await writeFile(join(sourceTree(), 'while-unreachable.txt'), 'new\n');
    await source.run(['ip', 'link', 'set', 'eth0', 'down']);
    let outcome: WorkflowRun;
    try {
      outcome = await runSync();
    } finally {
      await source.run(['ip', 'link', 'set', 'eth0', 'up']);
    }

    expect(outcome.error?.name).toBe('SourceUnreachableError');
    expect(outcome.error?.cause).toContain(
      `the copy from root@${source.address}:${sourceTree()} lost or could not open`,
    );
    expect(outcome.error?.cause).toContain('check that it is up');
    // The first attempt and both retries.
    expect(outcome.steps.find((step) => step.state === 'Copy')?.retries).toBe(2);
    await expectNothingLost();
    await expectSnapshotOfSource(await runSync());
  }, 120_000);

  it('sshd killed mid-copy: SourceUnreachableError, no partial snapshot; works once sshd is back', async () => {
    await slowCopyAhead('big-1.bin');
    const pending = runSync();
    await copyRunning();
    for (const pid of await source.pids()) process.kill(pid, 'SIGKILL');
    const outcome = await pending;
    await fullSpeed();

    expect(outcome.error?.name).toBe('SourceUnreachableError');
    await expectNothingLost();
    await source.startSshd();
    await expectSnapshotOfSource(await runSync());
  }, 120_000);

  it('a copy that exceeds its timeout: HostCommandTimedOutError, no partial snapshot; the next sync works', async () => {
    await slowCopyAhead('big-2.bin');
    const pending = runSync();
    // The source's side stops answering, yet its sshd keeps the connection alive: only the timeout ends it.
    const [sender] = await copyRunning();
    process.kill(sender as number, 'SIGSTOP');
    let outcome: WorkflowRun;
    try {
      outcome = await pending;
    } finally {
      process.kill(sender as number, 'SIGKILL');
      await fullSpeed();
    }

    expect(outcome.error?.name).toBe('HostCommandTimedOutError');
    // Killed on the staging host with everything it started.
    await expect.poll(() => processesOf(staging, 'rsync'), { timeout: 10_000 }).toEqual([]);
    expect(await processesOf(staging, 'ssh')).toEqual([]);
    await expectNothingLost();
    await expectSnapshotOfSource(await runSync());
  }, 120_000);

  it('engine SIGKILLed mid-sync and restarted: the sync finishes, and the engine finds nothing amiss', async () => {
    await slowCopyAhead('big-3.bin');
    const pending = runSync();
    const [sender] = await copyRunning();
    // Held still while the engine is away, so that no step calls it before it is back.
    process.kill(sender as number, 'SIGSTOP');
    await killGroup((engine as EngineProcess).child, 'SIGKILL');
    engine = undefined;
    const restarted = await startEngine();
    process.kill(sender as number, 'SIGCONT');
    const outcome = await pending;
    await fullSpeed();

    await expectSnapshotOfSource(outcome);
    const health = await createEngineClient({ url: restarted.url, token: TOKEN }).health();
    expect(health).toMatchObject({ status: 'ok', inconsistencies: [] });
    await expectNothingLost();
  }, 120_000);

  it('target mount path busy: MountPointBusyError, no VDB made, the other mount untouched; works once free', async () => {
    const busy = join(target.root, 'busy');
    await mkdir(busy);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'snapflow-e2e-busy', busy]);
    const vdbs = await local.engine.listVdbs();
    let outcome: WorkflowRun;
    try {
      outcome = await local.workflows.run('provision', {
        name: 'busy',
        snapshotId: [...snapshots.keys()].at(-1) as string,
        environmentId: environments.target.id,
        virtualSource: { mountLocation: busy },
      });
      expect((await mountPointsBelow(hosts.directory)).sort()).toEqual([busy, vdbPath].sort());
    } finally {
      await run('umount', ['--', busy]);
    }

    expect(outcome.error?.name).toBe('MountPointBusyError');
    expect(outcome.error?.cause).toContain(
      `virtualSource.mountLocation ${busy} already has a filesystem mounted on it`,
    );
    expect(await local.engine.listVdbs()).toEqual(vdbs);
    await expectNothingLost();
    const again = await local.workflows.run('provision', {
      name: 'busy',
      snapshotId: [...snapshots.keys()].at(-1) as string,
      environmentId: environments.target.id,
      virtualSource: { mountLocation: busy },
    });
    expectSucceeded(again);
    expectSucceeded(await local.workflows.run('delete-vdb', { vdbId: (again.output as { vdbId: string }).vdbId }));
    await expectNothingLost();
  }, 120_000);

  it('engine pool full: StorageFullError, no partial snapshot; works once the cause is gone', async () => {
    // Sparse on the source host, but every byte of it written into the pool.
    const huge = join(sourceTree(), 'huge.bin');
    await writeFile(huge, '');
    await truncate(huge, 2 * POOL_BYTES);

    const outcome = await runSync();
    await rm(huge);

    expect(outcome.error?.name).toBe('StorageFullError');
    expect(outcome.error?.cause).toContain(`the dataset mounted at ${join(staging.root, 'stage')} is full`);
    await expectNothingLost();
    await expectSnapshotOfSource(await runSync());
  }, 120_000);
});
