import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../../bench/args';
import { benchPlan, repetitions } from '../../../bench/plan';
import { GiB, MiB } from '../../../bench/units';

describe('parseBenchArgs', () => {
  it('runs both backends in full mode into bench/results.json by default', () => {
    expect(parseBenchArgs([])).toEqual({
      quick: false,
      backends: ['btrfs', 'dir'],
      out: 'bench/results.json',
      help: false,
    });
  });

  it('reads --quick, --backend and --out, with the value apart or after =', () => {
    expect(parseBenchArgs(['--quick', '--backend', 'dir', '--out=/tmp/r.json'])).toMatchObject({
      quick: true,
      backends: ['dir'],
      out: '/tmp/r.json',
    });
    expect(parseBenchArgs(['--backend=both']).backends).toEqual(['btrfs', 'dir']);
    expect(parseBenchArgs(['--render', 'bench/results.json']).render).toBe('bench/results.json');
  });

  it('refuses an unknown argument, a bad backend and a missing value', () => {
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown argument "--fast"/);
    expect(() => parseBenchArgs(['--backend', 'zfs'])).toThrow(/--backend must be btrfs, dir or both/);
    expect(() => parseBenchArgs(['--out'])).toThrow(/--out needs a value/);
  });
});

describe('benchPlan', () => {
  it('measures 4 MiB, 400 MiB and 4 GiB in full mode and keeps quick mode small', () => {
    expect(benchPlan(false).sizes).toEqual([4 * MiB, 400 * MiB, 4 * GiB]);
    expect(Math.max(...benchPlan(true).sizes)).toBeLessThanOrEqual(64 * MiB);
  });

  it('repeats multi-gigabyte copies 3 times at most, but cheap btrfs operations more often', () => {
    const full = benchPlan(false);
    expect(repetitions(full, 'copy', 'btrfs', 4 * GiB)).toBe(3);
    expect(repetitions(full, 'provision', 'dir', 4 * GiB)).toBe(1);
    expect(repetitions(full, 'provision', 'btrfs', 4 * GiB)).toBeGreaterThanOrEqual(5);
  });
});
