import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { writeSampleTree } from '../../lib/adapters/sample-tree';
import { readTreeManifest } from '../../lib/adapters/tree-manifest';
import { diffTrees, type TreeManifest } from '../../lib/core/tree-diff';
import type { WorkflowRun } from '../../lib/local/local-workflows';
import type { LocalSession } from './local-session';

/** The output of a run that must have succeeded; a failure shows its error. */
export function succeeded<T>(run: WorkflowRun): T {
  expect(run.error).toBeUndefined();
  expect(run.status).toBe('SUCCEEDED');
  return run.output as T;
}

/** Expects the tree at `root` to equal `expected` (content, modes, times, links), listing what differs. */
export async function expectTree(root: string, expected: TreeManifest): Promise<void> {
  expect(diffTrees(expected, await readTreeManifest(root))).toEqual([]);
}

/** The storage in the engine's pool: one dataset per timeflow, one per snapshot. */
export async function poolStorage(session: LocalSession): Promise<{ datasets: string[]; snapshots: string[] }> {
  const pool = join(session.work, 'home', 'engine', 'pool');
  return {
    datasets: (await readdir(join(pool, 'datasets'))).sort(),
    snapshots: (await readdir(join(pool, 'snapshots'))).sort(),
  };
}

/** What the engine's records say the pool holds, to compare with {@link poolStorage}. */
export async function recordedStorage(session: LocalSession): Promise<{ datasets: string[]; snapshots: string[] }> {
  const { engine } = session.local;
  return {
    datasets: (await engine.listTimeflows()).map((timeflow) => timeflow.id).sort(),
    snapshots: (await engine.listSnapshots()).map((snapshot) => snapshot.id).sort(),
  };
}

/**
 * Writes a sample tree at `<work>/source` and links it from this machine, staged at
 * `<work>/mnt/staging`, as most e2e suites begin; `link` adds to the link's input (e.g. a policy).
 */
export async function linkSampleTree(
  session: LocalSession,
  tree: { fileCount: number; largeFileBytes: number },
  link: Record<string, unknown> = {},
): Promise<{ source: string; dsourceId: string; snapshotId: string }> {
  const source = join(session.work, 'source');
  await writeSampleTree(source, tree);
  const environmentId = session.local.environment.id;
  const sourceConfig = await session.local.engine.createSourceConfig({ environmentId, name: 'data', path: source });
  const linked = succeeded<{ dsourceId: string; snapshotId: string }>(
    await session.run('link', {
      name: 'data',
      sourceConfigId: sourceConfig.id,
      stagingEnvironmentId: environmentId,
      linkedSource: {
        sourceAddress: 'localhost',
        username: 'root',
        mountLocation: join(session.work, 'mnt', 'staging'),
      },
      ...link,
    }),
  );
  return { source, ...linked };
}

/**
 * Writes a source of one file at `<work>/source` and records it as source config `src` on this
 * machine's environment, for suites that need a source but not its content.
 */
export async function oneFileSource(session: LocalSession): Promise<{ source: string; sourceConfigId: string }> {
  const source = join(session.work, 'source');
  await mkdir(source);
  await writeFile(join(source, 'file'), 'data\n');
  const environmentId = session.local.environment.id;
  const sourceConfig = await session.local.engine.createSourceConfig({ environmentId, name: 'src', path: source });
  return { source, sourceConfigId: sourceConfig.id };
}

/**
 * The start of the bad-input suites: a {@link oneFileSource}, linked from this machine and staged at
 * `<work>/mnt/staging`, and a source config for the same path on another host (`i-0123456789abcdef0`),
 * which a copy from `localhost` must refuse.
 */
export async function linkOneFileSource(session: LocalSession): Promise<{
  source: string;
  sourceConfigId: string;
  otherSourceConfigId: string;
  dsourceId: string;
  snapshotId: string;
}> {
  const { engine } = session.local;
  const { source, sourceConfigId } = await oneFileSource(session);
  const otherHost = await engine.createEnvironment({ name: 'other', hostId: 'i-0123456789abcdef0' });
  const otherSourceConfig = await engine.createSourceConfig({ environmentId: otherHost.id, name: 'far', path: source });
  const linked = succeeded<{ dsourceId: string; snapshotId: string }>(
    await session.run('link', {
      name: 'src',
      sourceConfigId,
      stagingEnvironmentId: session.local.environment.id,
      linkedSource: {
        sourceAddress: 'localhost',
        username: 'root',
        mountLocation: join(session.work, 'mnt', 'staging'),
      },
    }),
  );
  return { source, sourceConfigId, otherSourceConfigId: otherSourceConfig.id, ...linked };
}

/** Every directory at or below `root`, relative to it, leaving out the `skip` subtrees. */
export async function directoriesBelow(root: string, skip: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const walk = async (directory: string): Promise<void> => {
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (!entry.isDirectory() || skip.includes(relative(root, path))) continue;
      found.push(relative(root, path));
      await walk(path);
    }
  };
  await walk(root);
  return found.sort();
}

/**
 * Everything a failed workflow could leave behind: records, storage in the pool, mounts, and the
 * directories a host command created below the session's directory (a mount point's parents).
 * Compare it before and after a run.
 *
 * @param skip subtrees of `<work>` whose directories are the test's own, besides the engine's
 *   home and the source, which are always left out
 */
export async function leftovers(session: LocalSession, skip: readonly string[] = []) {
  const { engine } = session.local;
  const storage = await poolStorage(session);
  return {
    dsources: (await engine.listDSources()).map((dsource) => dsource.id),
    vdbs: (await engine.listVdbs()).map((vdb) => ({ id: vdb.id, status: vdb.status, timeflow: vdb.currentTimeflowId })),
    snapshots: (await engine.listSnapshots()).map((snapshot) => snapshot.id),
    datasetStorage: storage.datasets,
    snapshotStorage: storage.snapshots,
    mounts: await session.mounts(),
    directories: await directoriesBelow(session.work, ['home', 'source', ...skip]),
  };
}
