import type { BackendName } from './args';
import { allSucceed, type Metric, type Quantity, TARGETS, withTarget } from './metrics';
import type { BackendReport, SizeReport } from './reports';
import { median } from './stats';
import { formatBytes, sizeLabel } from './units';

/** What the metrics of one backend are derived from, besides its report. */
export interface DeriveOptions {
  backend: BackendName;
  /** The interpreter's cost per Task transition. */
  interpreterTaskMs: number;
  /** Filesystem type of the work directory (`stat -f -c %T`), for the notes on `dir`. */
  workFilesystem: string;
  /** Cores of the machine, for the bound on concurrent runs. */
  cpus: number;
}

/**
 * The metrics of one backend's report, each judged against its target in {@link TARGETS} where it
 * has one: per size the snapshot, provision and sync times against `cp -a` or the initial sync (a
 * provision under 1 s); at the largest size the speed-up over `cp -a` and the resync shares; size
 * independence from the smallest and largest sizes; the fleet's time and storage; the
 * orchestration overhead.
 */
export function deriveMetrics(report: BackendReport, options: DeriveOptions): Metric[] {
  const { backend } = options;
  const sizes = report.sizes ?? [];
  const smallest = sizes[0];
  const largest = sizes[sizes.length - 1];
  if (!report.available || smallest === undefined || largest === undefined) return [];
  const copiesNote =
    backend === 'dir'
      ? `dir backend: every snapshot and clone is a cp -a --reflink=auto copy, and the pool's filesystem (${options.workFilesystem}) cannot reflink, so they copy all data`
      : undefined;
  const note = (text: string | undefined) => (text === undefined ? {} : { note: text });
  const metrics: Metric[] = [];
  // The fastest copy, not the median: file creation on a busy ext4 is erratic, and the baseline must
  // never flatter Snapflow.
  const copyOf = (size: SizeReport): Quantity => ({
    name: `cp -a, ${sizeLabel(size.size)}`,
    value: Math.min(...size.copyMs),
    unit: 'ms',
  });

  for (const size of sizes) {
    const atLargest = size === largest;
    const initial: Quantity = { name: `initial sync, ${sizeLabel(size.size)}`, value: size.initialSync.ms, unit: 'ms' };
    metrics.push({
      name: 'snapshot',
      backend,
      size: size.size,
      value: median(size.snapshotMs),
      unit: 'ms',
      baseline: copyOf(size),
      ...note(copiesNote),
    });
    metrics.push(
      withTarget(
        {
          name: 'provision',
          backend,
          size: size.size,
          value: median(size.provisionMs),
          unit: 'ms',
          baseline: copyOf(size),
          ...note(copiesNote),
        },
        TARGETS.underOneSecond,
      ),
    );
    metrics.push({
      name: 'initial-sync',
      backend,
      size: size.size,
      value: size.initialSync.ms,
      unit: 'ms',
      baseline: copyOf(size),
      ...note(copiesNote),
    });
    const resync = (
      name: 'resync-1pct-in-place' | 'resync-1pct-whole-files',
      result: SizeReport['initialSync'],
      text?: string,
    ): Metric => {
      const metric: Metric = {
        name,
        backend,
        size: size.size,
        value: result.ms,
        unit: 'ms',
        baseline: initial,
        ...note(text),
      };
      return atLargest ? withTarget(metric, TARGETS.resyncUnderTenPercent) : metric;
    };
    metrics.push(
      resync(
        'resync-1pct-in-place',
        size.resyncInPlace,
        copiesNote ??
          'the copy step writes only the changed blocks (--inplace --no-whole-file), but finds them by reading and checksumming both copies of every changed file; see the copy-step comparison and the read floor',
      ),
    );
    metrics.push(resync('resync-1pct-whole-files', size.resyncWholeFiles, copiesNote));
    metrics.push({
      name: 'resync-checksum',
      backend,
      size: size.size,
      value: size.resyncChecksum.ms,
      unit: 'ms',
      baseline: initial,
      note: 'rsync --checksum reads every file on both sides, by design; informational, no target',
    });
  }

  metrics.push(
    withTarget(
      {
        name: 'provision-vs-copy',
        backend,
        size: largest.size,
        value: median(largest.provisionMs),
        unit: 'ms',
        baseline: copyOf(largest),
        ...note(copiesNote && 'dir backend: a provision is two full copies, the clone and the VDB’s first snapshot'),
      },
      TARGETS.fiftyTimesFaster,
    ),
  );
  metrics.push({
    name: 'provision-vs-durable-copy',
    backend,
    size: largest.size,
    value: median(largest.provisionMs),
    unit: 'ms',
    baseline: {
      name: `cp -a; sync, ${sizeLabel(largest.size)}`,
      value: Math.min(...largest.copyMs.map((ms, index) => ms + (largest.copyFlushMs[index] ?? 0))),
      unit: 'ms',
    },
    note: 'a provision is durable when it returns (btrfs commits its transaction, the engine fsyncs its metadata); a copy is once synced',
  });
  for (const [name, pick] of [
    ['snapshot-size-independence', (size: SizeReport) => size.snapshotMs],
    ['provision-size-independence', (size: SizeReport) => size.provisionMs],
  ] as const) {
    metrics.push(
      withTarget(
        {
          name,
          backend,
          size: largest.size,
          value: median(pick(largest)),
          unit: 'ms',
          baseline: {
            name: `${name.split('-')[0]} at ${sizeLabel(smallest.size)}`,
            value: median(pick(smallest)),
            unit: 'ms',
          },
          ...note(copiesNote),
        },
        TARGETS.sizeIndependent,
      ),
    );
  }

  if (largest.copyFlags !== undefined) {
    const { document, wholeFile, readFloor, snapshotBytes } = largest.copyFlags;
    const label = sizeLabel(largest.size);
    metrics.push({
      name: 'resync-copy-document-flags',
      backend,
      size: largest.size,
      value: document.ms,
      unit: 'ms',
      baseline: { name: 'rsync writing changed files whole', value: wholeFile.ms, unit: 'ms' },
      note: `the copy document adds ${document.flags.filter((flag) => !wholeFile.flags.includes(flag)).join(' ')} to rsync's defaults; each variant is rsync alone, run outside the workflow into a clone of the previous snapshot, with the flush of what it wrote`,
    });
    metrics.push({
      name: 'resync-read-floor',
      backend,
      size: largest.size,
      value: readFloor.ms,
      unit: 'ms',
      baseline: { name: `initial sync, ${label}`, value: largest.initialSync.ms, unit: 'ms' },
      note: `cat of the ${formatBytes(readFloor.bytes)} of files changed in place, in the source and in the previous snapshot: without change tracking, a sync must read both to find the changed blocks`,
    });
    if (document.exact) {
      const snapshot: Quantity = { name: `snapshot, ${label}`, value: snapshotBytes, unit: 'B' };
      metrics.push({
        name: 'resync-new-bytes',
        backend,
        size: largest.size,
        value: document.newBytes,
        unit: 'B',
        baseline: snapshot,
      });
      metrics.push({
        name: 'resync-new-bytes-whole-file',
        backend,
        size: largest.size,
        value: wholeFile.newBytes,
        unit: 'B',
        baseline: snapshot,
      });
    }
  }

  const fleetSize = sizes.find((size) => size.fleet !== undefined);
  if (fleetSize?.fleet !== undefined) {
    const { fleet } = fleetSize;
    const failures = Object.entries(fleet.failures).map(([name, count]) => `${count}× ${name}`);
    metrics.push({
      name: 'fleet-provision',
      backend,
      size: fleetSize.size,
      value: fleet.wallMs,
      unit: 'ms',
      baseline: {
        name: `one provision, ${sizeLabel(fleetSize.size)}`,
        value: median(fleetSize.provisionMs),
        unit: 'ms',
      },
      note:
        `the ${fleet.count} runs took ${(fleet.cpuMs / 1000).toFixed(2)} s of CPU in the process and ${(fleet.childCpuMs / 1000).toFixed(2)} s in ` +
        `the commands they ran; on ${options.cpus} cores the wall time cannot go below ${((fleet.cpuMs + fleet.childCpuMs) / options.cpus / 1000).toFixed(2)} s`,
    });
    metrics.push(
      withTarget(
        {
          name: 'fleet-succeeded',
          backend,
          size: fleetSize.size,
          value: fleet.succeeded,
          unit: 'runs',
          baseline: { name: 'started', value: fleet.count, unit: 'runs' },
          ...note(failures.length > 0 ? `failed: ${failures.join(', ')}` : undefined),
        },
        allSucceed(fleet.count),
      ),
    );
    const snapshot: Quantity = {
      name: `snapshot, ${sizeLabel(fleetSize.size)}`,
      value: fleet.snapshotBytes,
      unit: 'B',
    };
    metrics.push(
      withTarget(
        {
          name: 'fleet-storage-exclusive',
          backend,
          size: fleetSize.size,
          value: fleet.exclusiveBytes,
          unit: 'B',
          baseline: snapshot,
          ...note(
            fleet.exact
              ? 'btrfs filesystem du: data extents only; the subvolumes’ metadata shows in the pool growth'
              : 'exact: false: the dir backend cannot tell shared from exclusive bytes and counts every byte as exclusive, which is true here: each VDB is two full copies',
          ),
        },
        TARGETS.storageUnderTwoPercent,
      ),
    );
    metrics.push(
      withTarget(
        {
          name: 'fleet-storage-pool',
          backend,
          size: fleetSize.size,
          value: fleet.poolGrowthBytes,
          unit: 'B',
          baseline: snapshot,
          note:
            backend === 'btrfs'
              ? 'btrfs filesystem usage: Used (data and metadata, metadata counted twice as the pool keeps it DUP)'
              : 'du -s -B1 of the pool: blocks allocated',
        },
        TARGETS.storageUnderTwoPercent,
      ),
    );
  }

  if (report.orchestration !== undefined) {
    const { transitions, medianMs, profile } = report.orchestration;
    metrics.push(
      withTarget(
        {
          name: 'orchestration-per-transition',
          backend,
          value: report.orchestration.perTransitionMs,
          unit: 'ms',
          baseline: { name: 'interpreter, per Task state', value: options.interpreterTaskMs, unit: 'ms' },
          note:
            `provision of a 10-file tree with no-op host steps, ${Math.round(transitions)} transitions in ${medianMs.toFixed(1)} ms ` +
            `(median); of a run's time on average ${profile.engineMs.toFixed(1)} ms in ${Math.round(profile.engineCalls)} engine calls ` +
            `(clone, snapshot, metadata writes), ${(profile.lambdaMs - profile.engineMs).toFixed(1)} ms in the Lambda handlers around them, ` +
            `${profile.hostCommandMs.toFixed(1)} ms in the host agent's send and poll tasks, ${profile.otherMs.toFixed(1)} ms between states`,
        },
        TARGETS.lowMilliseconds,
      ),
    );
  }
  return metrics;
}
