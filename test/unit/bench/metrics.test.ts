import { describe, expect, it } from 'vitest';
import { allSucceed, describeComparison, type Metric, ratio, TARGETS, withTarget } from '../../../bench/metrics';

const provision = (value: number, copy: number): Metric => ({
  name: 'provision-vs-copy',
  backend: 'btrfs',
  value,
  unit: 'ms',
  baseline: { name: 'cp -a', value: copy, unit: 'ms' },
});

describe('targets', () => {
  it('judges ≥ 50× faster than the copy from value and baseline', () => {
    expect(withTarget(provision(100, 5000), TARGETS.fiftyTimesFaster).target).toEqual({
      description: '≥ 50× faster than cp -a',
      met: true,
    });
    expect(withTarget(provision(101, 5000), TARGETS.fiftyTimesFaster).target?.met).toBe(false);
  });

  it('judges shares, size independence, time and counts', () => {
    const share = (value: number, baseline: number) => ({
      value,
      unit: 'B' as const,
      baseline: { name: 'b', value: baseline, unit: 'B' as const },
    });
    expect(TARGETS.storageUnderTwoPercent.isMet(share(1, 100))).toBe(true);
    expect(TARGETS.storageUnderTwoPercent.isMet(share(2, 100))).toBe(false);
    expect(TARGETS.resyncUnderTenPercent.isMet(share(9, 100))).toBe(true);
    expect(TARGETS.sizeIndependent.isMet(share(150, 100))).toBe(true);
    expect(TARGETS.sizeIndependent.isMet(share(151, 100))).toBe(false);
    expect(TARGETS.underOneSecond.isMet({ value: 999, unit: 'ms' })).toBe(true);
    expect(allSucceed(20).isMet({ value: 19, unit: 'runs' })).toBe(false);
  });

  it('misses a share target when there is no baseline to compare with, or one in another unit', () => {
    expect(TARGETS.storageUnderTwoPercent.isMet({ value: 0, unit: 'B' })).toBe(false);
    expect(
      TARGETS.storageUnderTwoPercent.isMet({ value: 1, unit: 'B', baseline: { name: 'b', value: 100, unit: 'ms' } }),
    ).toBe(false);
  });
});

describe('describeComparison', () => {
  it('says how much faster or slower, what share, or what factor', () => {
    expect(describeComparison(provision(20, 5000))).toBe('250× faster');
    expect(describeComparison(provision(2000, 1000))).toBe('2.00× slower');
    expect(
      describeComparison({
        name: 'fleet-storage-pool',
        backend: 'btrfs',
        value: 3,
        unit: 'B',
        baseline: { name: 's', value: 1000, unit: 'B' },
      }),
    ).toBe('0.30%');
    expect(
      describeComparison({
        name: 'provision-size-independence',
        backend: 'btrfs',
        value: 55,
        unit: 'ms',
        baseline: { name: 's', value: 50, unit: 'ms' },
      }),
    ).toBe('1.10×');
  });

  it('says nothing without a baseline in the same unit', () => {
    expect(ratio({ value: 1, unit: 'ms' })).toBeUndefined();
    expect(
      describeComparison({
        name: 'fleet-succeeded',
        backend: 'dir',
        value: 20,
        unit: 'runs',
        baseline: { name: 'started', value: 20, unit: 'runs' },
      }),
    ).toBe('');
  });
});
