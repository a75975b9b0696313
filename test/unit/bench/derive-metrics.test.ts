import { describe, expect, it } from 'vitest';
import { deriveMetrics } from '../../../bench/derive-metrics';
import type { Metric, MetricName } from '../../../bench/metrics';
import { GiB, MiB } from '../../../bench/units';
import { btrfsReport } from './fixtures';

const options = { backend: 'btrfs' as const, interpreterTaskMs: 0.02, workFilesystem: 'ext2/ext3', cpus: 2 };
const find = (metrics: Metric[], name: MetricName, size?: number) =>
  metrics.find((metric) => metric.name === name && (size === undefined || metric.size === size));

describe('deriveMetrics', () => {
  const metrics = deriveMetrics(btrfsReport(), options);

  it('compares snapshot and provision medians with the fastest cp -a of the same size', () => {
    expect(find(metrics, 'provision', 4 * GiB)).toMatchObject({
      value: 58,
      unit: 'ms',
      baseline: { name: 'cp -a, 4 GiB', value: 12_000 },
      target: { met: true },
    });
    expect(find(metrics, 'snapshot', 4 * MiB)).toMatchObject({ value: 12, baseline: { value: 20 } });
  });

  it('judges size independence, the speed-up over a copy and the resync share at the largest size only', () => {
    expect(find(metrics, 'provision-size-independence')).toMatchObject({
      value: 58,
      baseline: { value: 50 },
      target: { met: true },
    });
    expect(find(metrics, 'provision-vs-copy')?.target?.met).toBe(true);
    expect(find(metrics, 'provision-vs-durable-copy')).toMatchObject({ baseline: { value: 14_500 } });
    expect(find(metrics, 'resync-1pct-in-place', 4 * GiB)?.target?.met).toBe(false);
    expect(find(metrics, 'resync-1pct-whole-files', 4 * GiB)?.target?.met).toBe(true);
    expect(find(metrics, 'resync-1pct-in-place', 4 * MiB)?.target).toBeUndefined();
  });

  it('reports the fleet: all succeeded, storage against the snapshot', () => {
    expect(find(metrics, 'fleet-succeeded')).toMatchObject({ value: 20, target: { met: true } });
    expect(find(metrics, 'fleet-storage-exclusive')?.target?.met).toBe(true);
    expect(find(metrics, 'fleet-storage-pool')).toMatchObject({ value: 2 * MiB, target: { met: true } });
    expect(find(metrics, 'fleet-provision')).toMatchObject({ value: 900, baseline: { value: 58 } });
  });

  it('reports the copy-step comparison and the orchestration overhead against the interpreter', () => {
    expect(find(metrics, 'resync-copy-document-flags')).toMatchObject({ value: 8_000, baseline: { value: 20_000 } });
    expect(find(metrics, 'resync-new-bytes')).toMatchObject({ value: 45 * MiB });
    expect(find(metrics, 'resync-new-bytes-whole-file')).toMatchObject({ value: 3.5 * GiB });
    expect(find(metrics, 'orchestration-per-transition')).toMatchObject({
      value: 2.5,
      baseline: { value: 0.02 },
      target: { met: true },
    });
  });

  it('names the flags the copy document adds to the whole-file baseline, whatever their order', () => {
    const report = btrfsReport();
    const copyFlags = report.sizes?.[1]?.copyFlags;
    expect(find(metrics, 'resync-copy-document-flags')?.note).toMatch(
      /^the copy document adds --inplace --no-whole-file --block-size=131072 to rsync's defaults;/,
    );
    if (copyFlags === undefined) throw new Error('the fixture has no copy-step comparison');
    copyFlags.document.flags = ['--inplace', ...copyFlags.wholeFile.flags.toReversed(), '--no-whole-file'];

    expect(find(deriveMetrics(report, options), 'resync-copy-document-flags')?.note).toMatch(
      /^the copy document adds --inplace --no-whole-file to rsync's defaults;/,
    );
  });

  it('explains on dir that snapshots and clones copy the data', () => {
    const dir = deriveMetrics(btrfsReport(), { ...options, backend: 'dir' });
    expect(find(dir, 'provision', 4 * GiB)?.note).toMatch(/cannot reflink/);
  });

  it('derives nothing from a backend that could not run', () => {
    expect(deriveMetrics({ available: false, reason: 'not root' }, options)).toEqual([]);
  });
});
