import type { BackendName } from './args';

/** Units of measured values. */
export type Unit = 'ms' | 'B' | 'runs';

/** A measured quantity, e.g. the baseline a metric is compared with. */
export interface Quantity {
  name: string;
  value: number;
  unit: Unit;
}

/** One of the {@link TARGETS} and whether this run met it. */
export interface Target {
  description: string;
  met: boolean;
}

/** How a metric compares with its baseline in the summary. */
export type Comparison =
  /** Both are durations and less is better: `250× faster`, `1.9× slower`. */
  | 'speed'
  /** The value is a share of the baseline: `0.4%`. */
  | 'share'
  /** The value is a multiple of the baseline: `1.08×`. */
  | 'factor'
  /** Not a ratio (e.g. a count against a count). */
  | 'none';

/** What the suite measures, and how each is shown. */
export const METRIC_INFO = {
  snapshot: { title: 'engine snapshot (HTTP API)', comparison: 'speed' },
  'snapshot-size-independence': { title: 'engine snapshot, largest vs smallest size', comparison: 'factor' },
  provision: { title: 'provision workflow, end to end', comparison: 'speed' },
  'provision-size-independence': { title: 'provision, largest vs smallest size', comparison: 'factor' },
  'provision-vs-copy': { title: 'provision vs a full copy', comparison: 'speed' },
  'provision-vs-durable-copy': { title: 'provision vs a full copy made durable (cp -a; sync)', comparison: 'speed' },
  'initial-sync': { title: 'initial sync workflow', comparison: 'speed' },
  'resync-1pct-in-place': { title: 'sync after 1% changed in place (4 large files)', comparison: 'share' },
  'resync-1pct-whole-files': { title: 'sync after 1% changed as 2 whole files', comparison: 'share' },
  'resync-checksum': { title: 'checksum resync (resync: true), nothing changed', comparison: 'share' },
  'resync-copy-document-flags': {
    title: 'copy step after 1% in place: the copy document’s rsync flags vs writing changed files whole',
    comparison: 'share',
  },
  'resync-read-floor': {
    title: 'reading both copies of the files changed in place (the floor of any comparing sync)',
    comparison: 'share',
  },
  'resync-new-bytes': { title: 'new bytes stored by the copy step after 1% in place', comparison: 'share' },
  'resync-new-bytes-whole-file': {
    title: 'new bytes stored by the copy step after 1% in place, writing changed files whole',
    comparison: 'share',
  },
  'fleet-provision': { title: '20 provisions at once, wall time', comparison: 'factor' },
  'fleet-succeeded': { title: '20 provisions at once, succeeded', comparison: 'none' },
  'fleet-storage-exclusive': { title: '20 VDBs before any write: exclusive bytes', comparison: 'share' },
  'fleet-storage-pool': { title: '20 VDBs before any write: pool growth', comparison: 'share' },
  'orchestration-per-transition': {
    title: 'provision with no-op host steps, per state transition',
    comparison: 'factor',
  },
  'interpreter-pass-transition': { title: 'ASL interpreter, per Pass state', comparison: 'none' },
  'interpreter-task-transition': { title: 'ASL interpreter, per Task state with a no-op handler', comparison: 'none' },
} as const satisfies Record<string, { title: string; comparison: Comparison }>;

export type MetricName = keyof typeof METRIC_INFO;

/** One line of results.json. */
export interface Metric {
  name: MetricName;
  /** `any` for what does not involve storage (the interpreter). */
  backend: BackendName | 'any';
  /** Dataset size in bytes, where the metric depends on it. */
  size?: number;
  value: number;
  unit: Unit;
  /** The alternative or reference, measured in the same run. */
  baseline?: Quantity;
  target?: Target;
  /** What the number means, or why a target is missed. */
  note?: string;
}

/** A target as a rule over a metric. */
export interface TargetRule {
  description: string;
  isMet(metric: Pick<Metric, 'value' | 'unit' | 'baseline'>): boolean;
}

/** The value over the baseline, when there is a baseline in the same unit. */
export function ratio(metric: Pick<Metric, 'value' | 'unit' | 'baseline'>): number | undefined {
  const { baseline } = metric;
  if (baseline === undefined || baseline.unit !== metric.unit || baseline.value === 0) return undefined;
  return metric.value / baseline.value;
}

/** The value over the baseline, or infinity (no target met) when there is no baseline to compare with. */
const share = (metric: Pick<Metric, 'value' | 'unit' | 'baseline'>) => ratio(metric) ?? Number.POSITIVE_INFINITY;

/**
 * What thin cloning must achieve, as the README's Benchmarks section states it: snapshots and
 * provisions independent of the dataset's size, a provision under 1 s and at least 50× faster than
 * `cp -a`, VDBs that add under 2% storage, a sync after a 1% change under 10% of the initial sync,
 * and an orchestration overhead of a few milliseconds per state transition.
 */
export const TARGETS = {
  underOneSecond: { description: '< 1 s end to end', isMet: (metric) => metric.value < 1000 },
  sizeIndependent: {
    description: 'largest size within 1.5× of the smallest',
    isMet: (metric) => share(metric) <= 1.5,
  },
  fiftyTimesFaster: { description: '≥ 50× faster than cp -a', isMet: (metric) => share(metric) <= 1 / 50 },
  storageUnderTwoPercent: { description: '< 2% of the snapshot', isMet: (metric) => share(metric) < 0.02 },
  resyncUnderTenPercent: { description: '< 10% of the initial sync', isMet: (metric) => share(metric) < 0.1 },
  lowMilliseconds: {
    description: '< 5 ms per transition (low milliseconds)',
    isMet: (metric) => metric.value < 5,
  },
} as const satisfies Record<string, TargetRule>;

/** A target that every one of `count` runs succeeds. */
export function allSucceed(count: number): TargetRule {
  return { description: `all ${count} succeed`, isMet: (metric) => metric.value === count };
}

/** The metric with the rule's verdict attached. */
export function withTarget(metric: Metric, rule: TargetRule): Metric {
  return { ...metric, target: { description: rule.description, met: rule.isMet(metric) } };
}

/** How the metric compares with its baseline, for people: `250× faster`, `0.4%`, `1.08×`; empty without one. */
export function describeComparison(metric: Metric): string {
  const value = ratio(metric);
  if (value === undefined) return '';
  switch (METRIC_INFO[metric.name].comparison) {
    case 'speed':
      if (value === 0) return '∞ faster';
      return value <= 1 ? `${formatFactor(1 / value)} faster` : `${formatFactor(value)} slower`;
    case 'share':
      return `${formatPercent(value * 100)}`;
    case 'factor':
      return formatFactor(value);
    case 'none':
      return '';
  }
}

function formatFactor(factor: number): string {
  if (factor >= 100) return `${Math.round(factor)}×`;
  if (factor >= 10) return `${factor.toFixed(1)}×`;
  return `${factor.toFixed(2)}×`;
}

function formatPercent(percent: number): string {
  if (percent === 0) return '0%';
  if (percent < 0.01) return '< 0.01%';
  if (percent < 10) return `${percent.toFixed(2)}%`;
  return `${percent.toFixed(1)}%`;
}
