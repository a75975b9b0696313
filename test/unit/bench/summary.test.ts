import { describe, expect, it } from 'vitest';
import { svgChart, textChart, timeChartGroups } from '../../../bench/chart';
import { deriveMetrics } from '../../../bench/derive-metrics';
import { groupNotes, markdownTable, summarize } from '../../../bench/summary';
import { formatMs, sizeLabel } from '../../../bench/units';
import { btrfsReport, results } from './fixtures';

const metrics = deriveMetrics(btrfsReport(), {
  backend: 'btrfs',
  interpreterTaskMs: 0.02,
  workFilesystem: 'ext2/ext3',
  cpus: 2,
});

describe('summarize', () => {
  it('states the run, counts the targets met and lists every measurement', () => {
    const markdown = summarize(results(metrics));
    expect(markdown).toContain('Full run of 2025-01-02 on 2 × Test CPU, 24.0 GiB RAM');
    // Of 11 targets only the in-place resync misses (30 s against an initial sync of 40 s).
    expect(markdown).toContain('## Targets: 10 of 11 met');
    expect(markdown).toContain('| provision vs a full copy, 4 GiB | btrfs | ≥ 50× faster than cp -a |');
    expect(markdown).toContain('**missed**');
    expect(markdown).toContain('![provision, snapshot and sync against a full copy](results.svg)');
  });
});

describe('markdownTable', () => {
  it('escapes pipes in cells', () => {
    expect(markdownTable(['a'], [['x|y']])).toBe('| a |\n| --- |\n| x\\|y |');
  });
});

describe('charts', () => {
  const groups = timeChartGroups(metrics);

  it('groups the full copy, initial sync, engine snapshot and provision by backend and size', () => {
    expect(groups.map((group) => group.title)).toEqual(['btrfs, 4 MiB', 'btrfs, 4 GiB']);
    expect(groups[1]?.bars.map((bar) => [bar.label, bar.ms, bar.baseline])).toEqual([
      ['cp -a (full copy)', 12_000, true],
      ['initial sync', 40_000, false],
      ['engine snapshot', 13, false],
      ['provision workflow', 58, false],
    ]);
  });

  it('draws longer bars for longer times on a log scale', () => {
    const lines = textChart(groups).split('\n');
    const bar = (label: string) =>
      lines
        .filter((line) => line.includes(label))
        .at(-1)
        ?.match(/[█░]+/)?.[0].length ?? 0;
    expect(bar('cp -a')).toBeGreaterThan(bar('provision'));
    expect(bar('provision')).toBeGreaterThan(bar('engine snapshot'));
  });

  it('writes an SVG with a bar per measurement', () => {
    const svg = svgChart(groups, 'a <title>');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('a &lt;title&gt;');
    expect(svg.match(/<rect x="210"/g)).toHaveLength(8);
  });
});

describe('units', () => {
  it('names sizes and durations', () => {
    expect(sizeLabel(4 * 1024 ** 2)).toBe('4 MiB');
    expect(sizeLabel(1.5 * 1024 ** 3)).toBe('1.5 GiB');
    expect([0.015, 0.5, 45.4, 1234, 61_000].map(formatMs)).toEqual(['15 µs', '0.50 ms', '45 ms', '1.23 s', '61.0 s']);
  });
});

describe('summarize, when a backend or a size could not be measured', () => {
  it('lists why among the notes', () => {
    const run = results(metrics);
    run.backends.dir = { available: false, reason: 'not root' };
    run.backends.btrfs = { ...btrfsReport(), failures: [{ size: 4 * 1024 ** 3, error: 'States.Timeout' }] };
    const markdown = summarize(run);
    expect(markdown).toContain('- dir: not measured: not root');
    expect(markdown).toContain('- btrfs, 4 GiB: FAILED: States.Timeout');
  });
});

describe('groupNotes', () => {
  it('gives each note once, with the measurements and backends it explains', () => {
    const note = 'copies everything';
    expect(
      groupNotes([
        { name: 'snapshot', backend: 'dir', size: 1, value: 1, unit: 'ms', note },
        { name: 'snapshot', backend: 'dir', size: 2, value: 1, unit: 'ms', note },
        { name: 'provision', backend: 'dir', size: 1, value: 1, unit: 'ms', note },
        { name: 'provision', backend: 'btrfs', size: 1, value: 1, unit: 'ms' },
      ]),
    ).toEqual(['engine snapshot (HTTP API); provision workflow, end to end (dir): copies everything']);
  });
});
