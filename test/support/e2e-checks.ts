import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
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
