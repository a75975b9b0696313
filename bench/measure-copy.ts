import { exec, flush, timed } from './shell';
import { median } from './stats';

/**
 * Times `cp -a` of the dataset to new directories on the same filesystem, the obvious alternative
 * to a thin clone, from a warm page cache; and separately the `sync` after it that makes the copy
 * durable (when `cp` returns, much of the copy may still be only in the page cache). The copies are
 * kept until the caller removes them: on ext4, creating files right after deleting many is slow (it
 * skips inodes freed in the last minute), and the baseline must not pay for the suite's deletions.
 * @param targets one directory per repetition, none existing yet
 */
export async function measureCopy(
  source: string,
  targets: readonly string[],
  signal?: AbortSignal,
): Promise<{ medianMs: number; samplesMs: number[]; flushMs: number[] }> {
  const samplesMs: number[] = [];
  const flushMs: number[] = [];
  for (const target of targets) {
    await flush(signal);
    const { ms } = await timed(() => exec('cp', ['-a', source, target], signal));
    samplesMs.push(ms);
    // What it then takes to make the copy durable, as a provision is when it returns.
    flushMs.push((await timed(() => flush(signal))).ms);
  }
  return { medianMs: median(samplesMs), samplesMs, flushMs };
}
