import { textChart, timeChartGroups } from './chart';
import { describeComparison, METRIC_INFO, type Metric } from './metrics';
import type { BenchResults } from './reports';
import { formatBytes, formatMs, sizeLabel } from './units';

/** A metric's value or baseline for a table cell. */
export function formatQuantity(value: number, unit: Metric['unit']): string {
  switch (unit) {
    case 'ms':
      return formatMs(value);
    case 'B':
      return formatBytes(value);
    case 'runs':
      return `${value}`;
  }
}

/** A markdown table. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The machine and run in one line. */
export function describeRun(results: BenchResults): string {
  const { machine } = results;
  const minutes = Math.floor(results.wallMs / 60_000);
  const seconds = Math.round((results.wallMs % 60_000) / 1000);
  return (
    `${results.quick ? 'Quick' : 'Full'} run of ${results.generatedAt.slice(0, 10)} on ${machine.cpus} × ${machine.cpuModel}, ` +
    `${formatBytes(machine.memory)} RAM, Linux ${machine.kernel}, Node ${machine.node}; work directory on ` +
    `${machine.workFilesystem}; load average ${machine.loadAverage.map((load) => load.toFixed(1)).join(' → ')}. Sizes: ${results.sizes.map(sizeLabel).join(', ')}. Wall time: ${minutes} min ${String(seconds).padStart(2, '0')} s.`
  );
}

/** The rows of the targets table: every metric that carries a target. */
export function targetRows(metrics: readonly Metric[]): string[][] {
  return metrics
    .filter((metric) => metric.target !== undefined)
    .map((metric) => [
      `${METRIC_INFO[metric.name].title}${metric.size === undefined ? '' : `, ${sizeLabel(metric.size)}`}`,
      metric.backend,
      metric.target?.description ?? '',
      measured(metric),
      metric.target?.met ? 'met' : '**missed**',
    ]);
}

function measured(metric: Metric): string {
  const comparison = describeComparison(metric);
  const value = formatQuantity(metric.value, metric.unit);
  if (metric.baseline === undefined) return value;
  const baseline = `${metric.baseline.name} ${formatQuantity(metric.baseline.value, metric.baseline.unit)}`;
  return comparison === '' ? `${value} (${baseline})` : `${value} vs ${baseline}: ${comparison}`;
}

/**
 * The summary of a run in markdown: the run, the targets with their verdicts, every measurement
 * against its baseline, the notes that explain them, and the chart (as text, and the SVG next to
 * the results).
 * @param svgPath how the markdown refers to the chart's SVG file
 */
export function summarize(results: BenchResults, svgPath = 'results.svg'): string {
  const { metrics } = results;
  const withTargets = metrics.filter((metric) => metric.target !== undefined);
  const met = withTargets.filter((metric) => metric.target?.met).length;
  const rows = metrics.map((metric) => [
    METRIC_INFO[metric.name].title,
    metric.backend,
    metric.size === undefined ? '' : sizeLabel(metric.size),
    formatQuantity(metric.value, metric.unit),
    metric.baseline === undefined
      ? ''
      : `${metric.baseline.name}: ${formatQuantity(metric.baseline.value, metric.baseline.unit)}`,
    describeComparison(metric),
  ]);
  const failures = Object.entries(results.backends).flatMap(([backend, report]) => [
    ...(report?.available === false ? [`${backend}: not measured: ${report.reason}`] : []),
    ...(report?.failures ?? []).map((failure) => `${backend}, ${sizeLabel(failure.size)}: FAILED: ${failure.error}`),
  ]);
  const notes = [...failures, ...groupNotes(metrics)];
  return [
    `# Snapflow benchmark`,
    '',
    describeRun(results),
    '',
    `## Targets: ${met} of ${withTargets.length} met`,
    '',
    markdownTable(['measurement', 'backend', 'target', 'measured', 'result'], targetRows(metrics)),
    '',
    '## Measurements',
    '',
    'Times are medians of the repetitions, except the cp -a baseline, which is the fastest of its copies. Every baseline was measured in the same run, on the same data.',
    '',
    markdownTable(['measurement', 'backend', 'size', 'value', 'baseline', 'comparison'], rows),
    '',
    '## Notes',
    '',
    ...notes.map((note) => `- ${note}`),
    '',
    '## Chart',
    '',
    `![provision, snapshot and sync against a full copy](${svgPath})`,
    '',
    '```text',
    textChart(timeChartGroups(metrics)),
    '```',
    '',
  ].join('\n');
}

/** Each distinct note once, after the measurements it explains: `title, title (backend): note`. */
export function groupNotes(metrics: readonly Metric[]): string[] {
  const groups = new Map<string, { titles: Set<string>; backends: Set<string> }>();
  for (const metric of metrics) {
    if (metric.note === undefined) continue;
    const group = groups.get(metric.note) ?? { titles: new Set(), backends: new Set() };
    group.titles.add(METRIC_INFO[metric.name].title);
    group.backends.add(metric.backend);
    groups.set(metric.note, group);
  }
  return [...groups].map(
    ([note, group]) => `${[...group.titles].join('; ')} (${[...group.backends].join(', ')}): ${note}`,
  );
}
