import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeDataset } from './dataset';
import type { DatasetLayout } from './dataset-layout';
import { measureCopy } from './measure-copy';
import { type BenchPlan, repetitions } from './plan';
import { flush } from './shell';
import { formatMs, sizeLabel } from './units';

/** A generated dataset and its `cp -a` baseline. */
export interface Dataset {
  size: number;
  /** The tree; the backends sync it, and change it between syncs. */
  path: string;
  layout: DatasetLayout;
  copyMs: number[];
  /** The sync after each copy: `copyMs[i] + flushMs[i]` is a durable copy. */
  flushMs: number[];
}

/**
 * Writes the dataset of every size of the plan below `directory` and times `cp -a` of each, before
 * anything is deleted: the copies are removed only once every baseline is taken. The datasets are
 * shared by the backends, which sync them in turn.
 */
export async function prepareDatasets(
  plan: BenchPlan,
  directory: string,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<Dataset[]> {
  await mkdir(join(directory, 'copies'), { recursive: true });
  const datasets: Dataset[] = [];
  for (const size of plan.sizes) {
    const label = sizeLabel(size).replace(' ', '');
    const path = join(directory, `source-${label}`);
    const layout = await writeDataset(path, size, signal);
    const count = Math.max(repetitions(plan, 'copy', 'btrfs', size), repetitions(plan, 'copy', 'dir', size));
    const targets = Array.from({ length: count }, (_, index) => join(directory, 'copies', `${label}-${index}`));
    const copy = await measureCopy(path, targets, signal);
    log(
      `[${sizeLabel(size)}] dataset: ${layout.files.length} files; cp -a ${copy.samplesMs.map(formatMs).join(', ')}; ` +
        `sync after it ${copy.flushMs.map(formatMs).join(', ')}`,
    );
    datasets.push({ size, path, layout, copyMs: copy.samplesMs, flushMs: copy.flushMs });
  }
  await rm(join(directory, 'copies'), { recursive: true, force: true });
  await flush(signal);
  return datasets;
}
