import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendName } from './args';
import { changeInPlace, changeWholeFiles } from './dataset';
import { planInPlaceChange } from './dataset-layout';
import { deriveMetrics } from './derive-metrics';
import { type FleetResult, measureFleet } from './measure-fleet';
import { measureOrchestration, measureProvisions } from './measure-provision';
import { measureEngineSnapshots } from './measure-snapshot';
import { compareCopyFlags, createDSource, measureSync } from './measure-sync';
import type { Metric } from './metrics';
import { type BenchPlan, orchestrationRepetitions, repetitions } from './plan';
import type { Dataset } from './prepare-datasets';
import type { BackendReport, SizeReport } from './reports';
import { BenchSession } from './session';
import { formatBytes, formatMs, sizeLabel } from './units';

export interface BackendRunOptions {
  backend: BackendName;
  plan: BenchPlan;
  /** The datasets, smallest first, with their `cp -a` baselines. */
  datasets: readonly Dataset[];
  /** Changes to the datasets are numbered from here, so that every change writes new data. */
  firstChange: number;
  /** A directory of the suite's; the backend's session lives in a subdirectory. */
  work: string;
  /** The interpreter's cost per Task transition, the baseline of the orchestration overhead. */
  interpreterTaskMs: number;
  /** Filesystem type of the work directory, for the notes on `dir`. */
  workFilesystem: string;
  /** Cores of the machine. */
  cpus: number;
  log: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Runs every measurement on one backend: first the orchestration overhead on a tiny tree, then for
 * each dataset the initial sync, engine snapshots, provisions, at the fleet size 20 provisions at
 * once and their storage, a sync after 1% changed in place, one after 1% changed as whole files and
 * a checksum resync.
 * @returns the raw report and the metrics derived from it
 */
export async function benchBackend(options: BackendRunOptions): Promise<{ report: BackendReport; metrics: Metric[] }> {
  const { backend, plan, work, log, signal } = options;
  const started = Date.now();
  const directory = join(work, backend);
  let session: BenchSession;
  try {
    session = await BenchSession.start(backend, directory, signal);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log(`[${backend}] not available: ${reason}`);
    await rm(directory, { recursive: true, force: true });
    return { report: { available: false, reason }, metrics: [] };
  }
  const report: BackendReport = {
    available: true,
    reason: session.local.backend.reason,
    fleetSize: plan.fleetSize[backend],
    sizes: [],
  };
  log(`[${backend}] ${report.reason}`);
  try {
    report.orchestration = await benchOrchestration(session, options);
    for (const dataset of options.datasets) {
      signal?.throwIfAborted();
      try {
        report.sizes?.push(await benchSize(session, dataset, options));
      } catch (error) {
        if (signal?.aborted) throw error;
        const message = error instanceof Error ? error.message : String(error);
        log(`[${backend} ${sizeLabel(dataset.size)}] FAILED: ${message}`);
        report.failures = [...(report.failures ?? []), { size: dataset.size, error: message }];
        await removeDSources(session);
      }
    }
  } finally {
    await session.close();
  }
  report.wallMs = Date.now() - started;
  return { report, metrics: deriveMetrics(report, options) };
}

/**
 * Deletes every VDB and dSource left by a failed measurement (best effort: the session's close
 * removes the whole pool anyway), so that the next size starts from an empty pool.
 */
async function removeDSources(session: BenchSession): Promise<void> {
  const { engine } = session.local;
  for (const vdb of await engine.listVdbs().catch(() => [])) await session.deleteVdb(vdb.id).catch(() => undefined);
  for (const dsource of await engine.listDSources().catch(() => []))
    await engine.deleteDSource(dsource.id).catch(() => undefined);
}

/** The provision workflow with no-op host steps, on a snapshot of a tree of ten 1 KiB files. */
async function benchOrchestration(
  session: BenchSession,
  options: BackendRunOptions,
): Promise<NonNullable<BackendReport['orchestration']>> {
  const source = join(session.directory, 'source-tiny');
  await mkdir(source);
  for (let index = 0; index < 10; index++) await writeFile(join(source, `file-${index}.txt`), 'x'.repeat(1024));
  const dsourceId = await createDSource(session, source, 'bench-tiny');
  const { snapshotId } = await measureSync(session, dsourceId, false, options.signal);
  const orchestration = await measureOrchestration(session, snapshotId, orchestrationRepetitions(options.plan));
  const { profile } = orchestration;
  options.log(
    `[${options.backend}] provision with no-op host steps: ${formatMs(orchestration.medianMs)}, ` +
      `${Math.round(orchestration.transitions)} transitions, ${orchestration.perTransitionMs.toFixed(2)} ms each; ` +
      `Lambda tasks ${formatMs(profile.lambdaMs)} (engine ${formatMs(profile.engineMs)} in ${Math.round(profile.engineCalls)} calls), ` +
      `host command tasks ${formatMs(profile.hostCommandMs)}, other ${formatMs(profile.otherMs)}`,
  );
  await session.local.engine.deleteDSource(dsourceId);
  return orchestration;
}

async function benchSize(session: BenchSession, dataset: Dataset, options: BackendRunOptions): Promise<SizeReport> {
  const { backend, plan, signal } = options;
  const { size, path: source, layout } = dataset;
  const say = (line: string) => options.log(`[${backend} ${sizeLabel(size)}] ${line}`);
  const largest = size === plan.sizes[plan.sizes.length - 1];

  const dsourceId = await createDSource(session, source, `bench-${sizeLabel(size).replace(' ', '')}`);
  const initialSync = await measureSync(session, dsourceId, false, signal);
  say(
    `initial sync: ${formatMs(initialSync.ms)} (copy ${formatMs(initialSync.copyMs)}, snapshot ${formatMs(initialSync.recordMs)})`,
  );
  const snapshotId = initialSync.snapshotId;

  const snapshots = await measureEngineSnapshots(
    session,
    dsourceId,
    repetitions(plan, 'snapshot', backend, size),
    signal,
  );
  say(`engine snapshot: ${snapshots.samplesMs.map(formatMs).join(', ')}`);
  const provisions = await measureProvisions(
    session,
    snapshotId,
    repetitions(plan, 'provision', backend, size),
    signal,
  );
  const { profile } = provisions;
  say(
    `provision: ${provisions.samplesMs.map(formatMs).join(', ')}; Lambda tasks ${formatMs(profile.lambdaMs)} ` +
      `(engine ${formatMs(profile.engineMs)}), host command tasks ${formatMs(profile.hostCommandMs)} ` +
      `(scripts ${formatMs(profile.hostScriptMs)}), other ${formatMs(profile.otherMs)}; ` +
      `CPU ${formatMs(profile.cpuMs)} in process, ${formatMs(profile.childCpuMs)} in commands`,
  );

  let fleet: FleetResult | undefined;
  if (size === plan.fleetSize[backend]) {
    fleet = await measureFleet(session, snapshotId, plan.fleet, signal);
    say(
      `${fleet.count} provisions at once: ${fleet.succeeded} succeeded in ${formatMs(fleet.wallMs)}; ` +
        `CPU ${formatMs(fleet.cpuMs)} in process, ${formatMs(fleet.childCpuMs)} in commands; ` +
        `exclusive ${formatBytes(fleet.exclusiveBytes)}, pool +${formatBytes(fleet.poolGrowthBytes)}`,
    );
    for (const [name, count] of Object.entries(fleet.failures)) say(`  ${count}× ${name}: ${fleet.causes[name] ?? ''}`);
  }

  await changeInPlace(source, layout, 0.01, options.firstChange);
  let copyFlags: SizeReport['copyFlags'];
  // Only btrfs shows what the flags change in storage; on dir every snapshot is a full copy anyway.
  if (largest && backend === 'btrfs') {
    const changed = [...new Set(planInPlaceChange(layout, 0.01).map((write) => write.path))];
    const compared = await compareCopyFlags(session, snapshotId, source, changed, signal);
    const snapshotBytes = (await session.local.engine.getSpace(snapshotId)).totalBytes;
    copyFlags = { ...compared, snapshotBytes };
    say(
      `copy step after 1% in place: document flags ${formatMs(compared.document.ms)} (+${formatBytes(compared.document.newBytes)}), ` +
        `whole-file flags ${formatMs(compared.wholeFile.ms)} (+${formatBytes(compared.wholeFile.newBytes)}); ` +
        `reading both copies of the ${formatBytes(compared.readFloor.bytes)} changed: ${formatMs(compared.readFloor.ms)}`,
    );
  }
  const resyncInPlace = await measureSync(session, dsourceId, false, signal);
  say(`sync after 1% in place: ${formatMs(resyncInPlace.ms)} (copy ${formatMs(resyncInPlace.copyMs)})`);
  await changeWholeFiles(source, layout, 0.01, options.firstChange + 1);
  const resyncWholeFiles = await measureSync(session, dsourceId, false, signal);
  say(`sync after 1% as whole files: ${formatMs(resyncWholeFiles.ms)} (copy ${formatMs(resyncWholeFiles.copyMs)})`);
  const resyncChecksum = await measureSync(session, dsourceId, true, signal);
  say(`checksum resync: ${formatMs(resyncChecksum.ms)}`);

  await session.local.engine.deleteDSource(dsourceId).catch((error: unknown) => {
    say(
      `could not delete the dSource, deleting what is left: ${error instanceof Error ? error.message : String(error)}`,
    );
    return removeDSources(session);
  });
  return {
    size,
    copyMs: dataset.copyMs,
    copyFlushMs: dataset.flushMs,
    snapshotMs: snapshots.samplesMs,
    provisionMs: provisions.samplesMs,
    provisionProfile: provisions.profile,
    initialSync,
    resyncInPlace,
    resyncWholeFiles,
    resyncChecksum,
    ...(copyFlags === undefined ? {} : { copyFlags }),
    ...(fleet === undefined ? {} : { fleet }),
  };
}
