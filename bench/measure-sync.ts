import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { COPY_DOCUMENT_FLAGS, WHOLE_FILE_FLAGS } from './rsync-flags';
import type { BenchSession } from './session';
import { exec, flush, timed } from './shell';

/** One run of the sync workflow. */
export interface SyncResult {
  ms: number;
  snapshotId: string;
  /** The Copy step (rsync on the staging host), and RecordSnapshot (the engine's snapshot). */
  copyMs: number;
  recordMs: number;
  bytesTransferred: number;
}

/**
 * Registers `source` and creates a dSource with empty storage, as the link workflow's first steps
 * do; the suite then fills it with a plain sync, so that the initial sync and later syncs run the
 * same workflow with the same flags (link's own sync compares checksums).
 */
export async function createDSource(session: BenchSession, source: string, name: string): Promise<string> {
  const { engine } = session.local;
  const sourceConfig = await engine.createSourceConfig({ environmentId: session.environmentId, name, path: source });
  const dsource = await engine.createDSource({
    name,
    sourceConfigId: sourceConfig.id,
    stagingEnvironmentId: session.environmentId,
    parameters: {
      sourceAddress: 'localhost',
      username: 'root',
      mountLocation: session.mountLocation(`staging-${name}`),
    },
  });
  return dsource.id;
}

/** Runs the sync workflow on a flushed system and times it end to end. */
export async function measureSync(
  session: BenchSession,
  dsourceId: string,
  resync: boolean,
  signal?: AbortSignal,
): Promise<SyncResult> {
  await flush(signal);
  const { ms, result: run } = await timed(() =>
    session.mustRun('sync', { dsourceId, snapshotParameters: { resync }, trigger: { kind: 'api', id: 'bench' } }),
  );
  const snapshotId = (run.output as { snapshotId: string }).snapshotId;
  const stepMs = (state: string) => run.steps.find((step) => step.state === state)?.durationMs ?? 0;
  const snapshot = await session.local.engine.getSnapshot(snapshotId);
  return {
    ms,
    snapshotId,
    copyMs: stepMs('Copy'),
    recordMs: stepMs('RecordSnapshot'),
    bytesTransferred: snapshot.provenance.bytesTransferred ?? 0,
  };
}

/** One variant of the copy step, run into a fresh clone of the previous snapshot. */
export interface CopyVariant {
  flags: string[];
  /**
   * rsync and the flush of what it wrote into the pool: the snapshot that follows the copy in the
   * sync workflow waits for that flush too.
   */
  ms: number;
  /** Bytes the clone no longer shares with the snapshot: what this sync's snapshot will cost. */
  newBytes: number;
  exact: boolean;
}

/** What any sync that compares contents must at least do for changed files: read both copies. */
export interface ReadFloor {
  /** Bytes of the changed files, on each side. */
  bytes: number;
  ms: number;
}

/**
 * Runs the copy step's rsync with the copy document's flags and with {@link WHOLE_FILE_FLAGS}, each
 * into its own writable clone of `snapshotId` (the state the dSource is in before the sync), and
 * measures time and new storage; then times reading the changed files on both sides, the floor of
 * any sync that compares contents. The clones are deleted afterwards.
 * @param changed paths, relative to the dataset root, of the files changed since the snapshot
 */
export async function compareCopyFlags(
  session: BenchSession,
  snapshotId: string,
  source: string,
  changed: readonly string[],
  signal?: AbortSignal,
): Promise<{ document: CopyVariant; wholeFile: CopyVariant; readFloor: ReadFloor }> {
  const { engine } = session.local;
  const run = async (flags: string[], name: string): Promise<CopyVariant> => {
    const vdb = await engine.createVdb({
      name,
      snapshotId,
      environmentId: session.environmentId,
      parameters: { mountLocation: session.mountLocation(name) },
    });
    try {
      const { source: target } = await engine.exportDataset(vdb.id, { readOnly: false });
      await flush(signal);
      const { ms } = await timed(async () => {
        await exec('rsync', [...flags, '--', `${source}/`, `${target}/`], signal);
        await exec('sync', ['-f', target], signal);
      });
      const space = await engine.getSpace(vdb.id);
      return { flags, ms, newBytes: space.exclusiveBytes, exact: space.exact };
    } finally {
      await engine.deleteVdb(vdb.id);
    }
  };
  const document = await run(COPY_DOCUMENT_FLAGS, 'copy-document-flags');
  const wholeFile = await run(WHOLE_FILE_FLAGS, 'whole-file-flags');
  const snapshotPath = (await engine.getSnapshot(snapshotId)).path;
  const files = changed.flatMap((path) => [join(source, path), join(snapshotPath, path)]);
  await flush(signal);
  const { ms } = await timed(() => exec('sh', ['-c', 'cat -- "$@" > /dev/null', 'sh', ...files], signal));
  const bytes = (await Promise.all(changed.map(async (path) => (await stat(join(source, path))).size))).reduce(
    (total, size) => total + size,
    0,
  );
  return { document, wholeFile, readFloor: { bytes, ms } };
}
