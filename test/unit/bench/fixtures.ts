import type { SyncResult } from '../../../bench/measure-sync';
import type { RunProfile } from '../../../bench/profile';
import type { BackendReport, BenchResults, SizeReport } from '../../../bench/reports';
import { COPY_DOCUMENT_FLAGS, WHOLE_FILE_FLAGS } from '../../../bench/rsync-flags';
import { GiB, MiB } from '../../../bench/units';

const profile: RunProfile = {
  wallMs: 50,
  transitions: 18,
  lambdaMs: 30,
  engineMs: 20,
  engineCalls: 8,
  hostCommandMs: 15,
  hostScriptMs: 10,
  otherMs: 5,
  engineRoutes: { 'POST /vdbs': { calls: 1, ms: 8 } },
  cpuMs: 40,
  childCpuMs: 10,
};

const sync = (ms: number): SyncResult => ({
  ms,
  snapshotId: 'snap-1',
  copyMs: ms / 2,
  recordMs: 10,
  bytesTransferred: 0,
});

/** A btrfs report of two sizes, as a run would make it. */
export function btrfsReport(): BackendReport {
  const small: SizeReport = {
    size: 4 * MiB,
    // Fastest, median, mean, first and last all differ, so a wrong statistic shows.
    copyMs: [31, 20, 26, 24, 40],
    copyFlushMs: [5, 5, 5, 5, 5],
    snapshotMs: [14, 12, 10, 30, 11],
    provisionMs: [65, 50, 48],
    provisionProfile: profile,
    initialSync: sync(300),
    resyncInPlace: sync(200),
    resyncWholeFiles: sync(180),
    resyncChecksum: sync(250),
  };
  const large: SizeReport = {
    size: 4 * GiB,
    // The fastest copy and flush together (14.5 s) is neither the fastest copy with its flush nor with
    // the fastest flush.
    copyMs: [13_000, 12_000, 12_500],
    copyFlushMs: [3_000, 3_500, 2_000],
    snapshotMs: [40, 12, 13],
    provisionMs: [60, 58, 55],
    provisionProfile: profile,
    initialSync: sync(40_000),
    resyncInPlace: sync(30_000),
    resyncWholeFiles: sync(1_000),
    resyncChecksum: sync(35_000),
    copyFlags: {
      document: { flags: COPY_DOCUMENT_FLAGS, ms: 8_000, newBytes: 45 * MiB, exact: true },
      wholeFile: { flags: WHOLE_FILE_FLAGS, ms: 20_000, newBytes: 3.5 * GiB, exact: true },
      readFloor: { bytes: 3.5 * GiB, ms: 3_000 },
      snapshotBytes: 4 * GiB,
    },
    fleet: {
      count: 20,
      succeeded: 20,
      wallMs: 900,
      failures: {},
      causes: {},
      snapshotBytes: 4 * GiB,
      exclusiveBytes: 0,
      exact: true,
      poolGrowthBytes: 2 * MiB,
      cpuMs: 1500,
      childCpuMs: 300,
    },
  };
  return {
    available: true,
    reason: 'btrfs backend',
    fleetSize: 4 * GiB,
    sizes: [small, large],
    orchestration: { perTransitionMs: 2.5, transitions: 18, medianMs: 45, profile },
  };
}

/** Results holding the metrics given. */
export function results(metrics: BenchResults['metrics']): BenchResults {
  return {
    generatedAt: '2025-01-02T03:04:05.000Z',
    machine: {
      cpus: 2,
      cpuModel: 'Test CPU',
      memory: 24 * GiB,
      kernel: '6.1.0',
      node: 'v20.20.0',
      workFilesystem: 'ext2/ext3',
      loadAverage: [0.1, 0.5],
    },
    quick: false,
    wallMs: 125_000,
    sizes: [4 * MiB, 4 * GiB],
    backends: { btrfs: btrfsReport() },
    metrics,
  };
}
