import { describe, expect, it } from 'vitest';
import { MAX_SMALL_FILES, planDataset, planInPlaceChange, planWholeFileChange } from '../../../bench/dataset-layout';
import { GiB, MiB } from '../../../bench/units';

const total = (sizes: readonly { bytes: number }[]) => sizes.reduce((sum, item) => sum + item.bytes, 0);

describe('planDataset', () => {
  it('plans exactly the requested bytes in many small, 25 medium and 4 large files', () => {
    for (const size of [4 * MiB, 64 * MiB, 4 * GiB]) {
      const layout = planDataset(size);
      expect(total(layout.files)).toBe(size);
      expect(layout.files.filter((file) => file.tier === 'medium')).toHaveLength(25);
      expect(layout.files.filter((file) => file.tier === 'large')).toHaveLength(4);
      expect(layout.files.filter((file) => file.tier === 'small').length).toBeGreaterThan(200);
    }
  });

  it('caps the small files and plans the same layout every time', () => {
    expect(planDataset(4 * GiB).files.filter((file) => file.tier === 'small')).toHaveLength(MAX_SMALL_FILES);
    expect(planDataset(64 * MiB)).toEqual(planDataset(64 * MiB));
  });

  it('refuses a size too small for its tiers', () => {
    expect(() => planDataset(1000)).toThrow(/too small/);
  });
});

describe('dataset changes', () => {
  it('overwrites 1% in place within the large files', () => {
    const layout = planDataset(400 * MiB);
    const writes = planInPlaceChange(layout, 0.01);
    const large = new Map(layout.files.filter((file) => file.tier === 'large').map((file) => [file.path, file.bytes]));
    expect(total(writes) / layout.sizeBytes).toBeCloseTo(0.01, 4);
    for (const write of writes) {
      expect(large.has(write.path)).toBe(true);
      expect(write.offset + write.bytes).toBeLessThanOrEqual(large.get(write.path) ?? 0);
    }
  });

  it('rewrites two medium files, 1% of the bytes', () => {
    const layout = planDataset(400 * MiB);
    const files = planWholeFileChange(layout, 0.01);
    expect(files).toHaveLength(2);
    expect(total(files) / layout.sizeBytes).toBeCloseTo(0.01, 4);
  });
});
