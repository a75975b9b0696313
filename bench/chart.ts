import type { BackendName } from './args';
import type { Metric, MetricName } from './metrics';
import { formatMs, sizeLabel } from './units';

/** One bar of the time chart. */
export interface ChartBar {
  label: string;
  ms: number;
  /** The baseline's bars are drawn grey. */
  baseline: boolean;
}

/** The bars of one backend at one size. */
export interface ChartGroup {
  title: string;
  bars: ChartBar[];
}

const SERIES: readonly { name: MetricName | 'cp -a'; label: string }[] = [
  { name: 'cp -a', label: 'cp -a (full copy)' },
  { name: 'initial-sync', label: 'initial sync' },
  { name: 'snapshot', label: 'engine snapshot' },
  { name: 'provision', label: 'provision workflow' },
];

/**
 * The chart's data: for each backend and size, the full copy next to the initial sync, the engine
 * snapshot and the provision workflow.
 */
export function timeChartGroups(metrics: readonly Metric[]): ChartGroup[] {
  const groups: ChartGroup[] = [];
  const keys = new Map<string, { backend: BackendName; size: number }>();
  for (const metric of metrics)
    if (metric.name === 'provision' && metric.backend !== 'any' && metric.size !== undefined)
      keys.set(`${metric.backend}:${metric.size}`, { backend: metric.backend, size: metric.size });
  for (const { backend, size } of keys.values()) {
    const find = (name: MetricName) => metrics.find((m) => m.name === name && m.backend === backend && m.size === size);
    const bars: ChartBar[] = [];
    for (const series of SERIES) {
      if (series.name === 'cp -a') {
        const copy = find('provision')?.baseline;
        if (copy !== undefined) bars.push({ label: series.label, ms: copy.value, baseline: true });
        continue;
      }
      const metric = find(series.name);
      if (metric !== undefined) bars.push({ label: series.label, ms: metric.value, baseline: false });
    }
    groups.push({ title: `${backend}, ${sizeLabel(size)}`, bars });
  }
  return groups;
}

/** Decades of milliseconds a log axis spans, from 1 ms (or less) to the largest value. */
function decades(groups: readonly ChartGroup[]): { low: number; high: number } {
  const values = groups.flatMap((group) => group.bars.map((bar) => bar.ms)).filter((ms) => ms > 0);
  const low = Math.min(0, Math.floor(Math.log10(Math.min(...values, 1))));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(...values, 1))));
  return { low, high };
}

/** The bars as text, on a log scale: one line per bar, for a terminal or a markdown code block. */
export function textChart(groups: readonly ChartGroup[], width = 40): string {
  const { low, high } = decades(groups);
  const labelWidth = Math.max(...groups.flatMap((group) => group.bars.map((bar) => bar.label.length)), 0);
  const lines = [`time, log scale from ${formatMs(10 ** low)} to ${formatMs(10 ** high)} (░ the full copy)`];
  for (const group of groups) {
    lines.push(group.title);
    for (const bar of group.bars) {
      const cells = Math.max(1, Math.round(((Math.log10(Math.max(bar.ms, 10 ** low)) - low) / (high - low)) * width));
      lines.push(`  ${bar.label.padEnd(labelWidth)}  ${(bar.baseline ? '░' : '█').repeat(cells)} ${formatMs(bar.ms)}`);
    }
  }
  return lines.join('\n');
}

const COLOURS = ['#9e9e9e', '#8e6cc0', '#2f7ed8', '#2e9e5b'];

/** The bars as an SVG image, on a log scale with a tick per decade. */
export function svgChart(groups: readonly ChartGroup[], title: string): string {
  const { low, high } = decades(groups);
  const left = 210;
  const plotWidth = 560;
  const barHeight = 14;
  const groupGap = 18;
  const top = 48;
  const x = (ms: number) => left + ((Math.log10(Math.max(ms, 10 ** low)) - low) / (high - low)) * plotWidth;
  const parts: string[] = [];
  let y = top;
  for (const group of groups) {
    parts.push(`<text x="8" y="${y + 11}" font-weight="bold">${escapeXml(group.title)}</text>`);
    y += 16;
    group.bars.forEach((bar, index) => {
      const colour = bar.baseline ? (COLOURS[0] as string) : (COLOURS[(index % (COLOURS.length - 1)) + 1] as string);
      const end = x(bar.ms);
      parts.push(`<text x="${left - 6}" y="${y + 11}" text-anchor="end">${escapeXml(bar.label)}</text>`);
      parts.push(
        `<rect x="${left}" y="${y}" width="${Math.max(1, end - left).toFixed(1)}" height="${barHeight}" fill="${colour}"/>`,
      );
      parts.push(`<text x="${(end + 4).toFixed(1)}" y="${y + 11}">${escapeXml(formatMs(bar.ms))}</text>`);
      y += barHeight + 3;
    });
    y += groupGap;
  }
  const height = y + 10;
  const ticks: string[] = [];
  for (let decade = low; decade <= high; decade++) {
    const tx = x(10 ** decade).toFixed(1);
    ticks.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${height - 14}" stroke="#ddd"/>`);
    ticks.push(
      `<text x="${tx}" y="${top - 10}" text-anchor="middle" fill="#666">${escapeXml(formatMs(10 ** decade))}</text>`,
    );
  }
  const width = left + plotWidth + 90;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...ticks,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
