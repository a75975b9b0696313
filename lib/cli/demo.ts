import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountPointsBelow } from '../adapters/mount-table';
import { changeSampleTree, writeSampleTree } from '../adapters/sample-tree';
import { readTreeManifest } from '../adapters/tree-manifest';
import { describeJobError } from '../api/describe-job-error';
import { formatTable } from '../core/format-table';
import { diffTrees, type TreeManifest } from '../core/tree-diff';
import type { LocalWorkflows } from '../local/local-workflows';
import type { LocalMode } from '../local/start-local-mode';
import { startLocalMode } from '../local/start-local-mode';

export interface DemoOptions {
  backend: 'auto' | 'btrfs' | 'dir';
  /** Leave the work directory, mounts and engine pool in place for inspection. */
  keep: boolean;
  out: (line: string) => void;
}

type WorkflowInput = Parameters<LocalWorkflows['run']>[1];

interface StepRow {
  step: string;
  execution: string;
  durationMs: number;
  result: string;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * The main job: link a sample tree, sync it, provision VDBs, change source and VDB, sync again,
 * provision from the new snapshot, then prove every dataset holds exactly what it should.
 * Resolves to the number of failed checks.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const { out } = options;
  const work = await mkdtemp(join(tmpdir(), 'snapflow-demo-'));
  const local = await startLocalMode({ home: work, backend: options.backend });
  out(`Engine: ${local.backend.kind} backend (${local.backend.reason})`);
  out(`Work directory: ${work}`);
  const rows: StepRow[] = [];
  const mounts: string[] = [];
  // Ctrl-C ends the running workflow; the cleanup below still runs.
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once('SIGINT', onSignal);
  try {
    const checks = await demoScenario(local, work, rows, mounts, out, interrupt.signal);
    out('');
    out(formatTable(['step', 'execution', 'duration', 'result'], rows.map(toCells)));
    out('');
    out(
      formatTable(
        ['integrity check', 'result', 'detail'],
        checks.map((c) => [c.name, c.ok ? 'PASS' : 'FAIL', c.detail]),
      ),
    );
    const failed = checks.filter((check) => !check.ok).length;
    out('');
    out(
      failed === 0 ? `All ${checks.length} integrity checks passed.` : `${failed} of ${checks.length} checks FAILED.`,
    );
    return failed;
  } finally {
    process.removeListener('SIGINT', onSignal);
    if (options.keep) {
      out(`Kept ${work}: VDBs stay mounted at ${mounts.join(', ')}.`);
      out(`To clean up: umount ${mounts.join(' ')} && rm -rf ${work}  (the pool's loop device detaches itself)`);
      await local.close({ keepStorage: true });
    } else {
      await cleanUp(local, work, out);
    }
  }
}

/**
 * Unmounts whatever the demo left mounted below its work directory (VDBs, and a staging mount if a
 * sync was interrupted), stops the engine and removes its pool, then the directory, but only once
 * nothing is mounted at or below it: `rm -r` through a mount would delete the mounted data.
 */
async function cleanUp(local: LocalMode, work: string, out: (line: string) => void): Promise<void> {
  const pool = join(work, 'engine');
  try {
    const leftovers = (await mountPointsBelow(work)).filter((path) => path !== pool && !path.startsWith(`${pool}/`));
    await local.unmountAll(leftovers.sort().reverse());
  } finally {
    await local.close({ keepStorage: false });
  }
  const stillMounted = await mountPointsBelow(work);
  if (stillMounted.length > 0) {
    out(`Left ${work} in place: still mounted below it: ${stillMounted.join(', ')}`);
    return;
  }
  await rm(work, { recursive: true, force: true });
}

async function demoScenario(
  local: LocalMode,
  work: string,
  rows: StepRow[],
  mounts: string[],
  out: (line: string) => void,
  signal: AbortSignal,
): Promise<Check[]> {
  const source = join(work, 'source');
  const mnt = join(work, 'mnt');
  await mkdir(mnt);
  const sample = await writeSampleTree(source);
  out(
    `Source tree: ${sample.files} files, ${sample.directories} directories, ${(sample.bytes / 2 ** 20).toFixed(1)} MiB`,
  );
  const atFirstSync = await readTreeManifest(source);

  const environmentId = local.environment.id;
  const sourceConfig = await local.engine.createSourceConfig({ environmentId, name: 'sample tree', path: source });

  const run = async (step: string, workflow: string, input: WorkflowInput) => {
    const result = await local.workflows.run(workflow, input, { signal });
    const error = result.error === undefined ? undefined : describeJobError(result.error);
    const failure = error === undefined ? '' : `: ${error.code}: ${error.message} (${error.action})`;
    rows.push({
      step,
      execution: result.executionArn.split(':').pop() ?? '',
      durationMs: result.durationMs,
      result: `${result.status}${failure}`,
    });
    out(`${step}: ${result.status}${failure}`);
    if (result.status !== 'SUCCEEDED') throw new Error(`${step} failed${failure}`);
    return result.output as Record<string, string>;
  };
  const provision = async (step: string, snapshotId: string, name: string) => {
    const mountLocation = join(mnt, name);
    const output = await run(step, 'provision', { name, snapshotId, environmentId, virtualSource: { mountLocation } });
    mounts.push(mountLocation);
    return { vdbId: output.vdbId ?? '', mountLocation };
  };

  const linked = await run('link + initial sync', 'link', {
    name: 'sample',
    sourceConfigId: sourceConfig.id,
    stagingEnvironmentId: environmentId,
    linkedSource: { sourceAddress: 'localhost', username: 'root', mountLocation: join(mnt, 'staging') },
  });
  const dsourceId = linked.dsourceId ?? '';
  const firstSnapshot = await local.engine.getSnapshot(linked.snapshotId ?? '');
  const vdb1 = await provision('provision vdb-1', firstSnapshot.id, 'vdb-1');
  const vdb2 = await provision('provision vdb-2', firstSnapshot.id, 'vdb-2');

  await writeIntoVdb(vdb1.mountLocation);
  const change = await changeSampleTree(source);
  out(
    `Changed source: ${change.added.length} added, ${change.modified.length} modified, ${change.deleted.length} deleted`,
  );
  const atSecondSync = await readTreeManifest(source);

  const synced = await run('sync after change', 'sync', {
    dsourceId,
    snapshotParameters: { resync: false },
    trigger: { kind: 'api', id: 'demo' },
  });
  const secondSnapshot = await local.engine.getSnapshot(synced.snapshotId ?? '');
  const vdb3 = await provision('provision vdb-3', secondSnapshot.id, 'vdb-3');

  const same = async (name: string, expected: TreeManifest, path: string): Promise<Check> => {
    const differences = diffTrees(expected, await readTreeManifest(path), 3);
    const detail =
      differences.length === 0
        ? `${expected.length} entries identical (content, modes, times, links)`
        : differences.map((d) => `${JSON.stringify(d.path)} ${d.what}`).join('; ');
    return { name, ok: differences.length === 0, detail };
  };
  const deletedPath = change.deleted[0] ?? '';
  return [
    await same('first snapshot = source at first sync', atFirstSync, firstSnapshot.path),
    await same('vdb-2 (not written) = first snapshot', atFirstSync, vdb2.mountLocation),
    await vdbHoldsOnlyItsWrites('vdb-1 = first snapshot + its own writes', atFirstSync, vdb1.mountLocation),
    await same('second snapshot = source at second sync', atSecondSync, secondSnapshot.path),
    await same('vdb-3 = second snapshot', atSecondSync, vdb3.mountLocation),
    {
      name: 'deletion reached the new snapshot only',
      ok:
        !(await exists(join(secondSnapshot.path, deletedPath))) &&
        (await exists(join(firstSnapshot.path, deletedPath))),
      detail: `${JSON.stringify(deletedPath)}: gone from the second snapshot, still in the first`,
    },
  ];
}

/** What the demo writes into vdb-1 after provisioning it. */
const VDB1_WRITES: Readonly<Record<string, string>> = {
  'written-in-vdb-1.txt': 'only in vdb-1\n',
  'dir-0/sub-0/file-0.dat': 'overwritten in vdb-1\n',
};

async function writeIntoVdb(mountLocation: string): Promise<void> {
  for (const [path, content] of Object.entries(VDB1_WRITES)) await writeFile(join(mountLocation, path), content);
}

/** The VDB differs from its snapshot exactly at the paths written into it, and holds what was written. */
async function vdbHoldsOnlyItsWrites(name: string, snapshot: TreeManifest, mountLocation: string): Promise<Check> {
  const differences = diffTrees(snapshot, await readTreeManifest(mountLocation), 1000);
  const differing = new Set(differences.map((d) => d.path));
  const written = Object.keys(VDB1_WRITES);
  const unexpected = [...differing].filter((path) => !written.includes(path));
  const wrongContent: string[] = [];
  for (const path of written)
    if ((await readFile(join(mountLocation, path), 'utf8')) !== VDB1_WRITES[path]) wrongContent.push(path);
  const ok = unexpected.length === 0 && wrongContent.length === 0 && written.every((path) => differing.has(path));
  const detail = ok
    ? `${snapshot.length} entries as in the snapshot except the ${written.length} written`
    : `unexpected differences: ${unexpected.slice(0, 3).join(', ') || 'none'}; wrong content: ${wrongContent.join(', ') || 'none'}`;
  return { name, ok, detail };
}

function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

function toCells(row: StepRow): string[] {
  return [row.step, row.execution, `${(row.durationMs / 1000).toFixed(2)} s`, row.result];
}
