import type { BenchSession } from './session';
import { flush, timed } from './shell';
import { median } from './stats';

/**
 * Times the engine's snapshot of a dataset over its HTTP API, as the sync workflow's RecordSnapshot
 * step calls it, with the dataset's data already on disk. Each snapshot is deleted again, so the
 * `dir` backend's full copies do not pile up.
 * @returns the median over `repetitions` snapshots, in milliseconds
 */
export async function measureEngineSnapshots(
  session: BenchSession,
  datasetId: string,
  repetitions: number,
  signal?: AbortSignal,
): Promise<{ medianMs: number; samplesMs: number[] }> {
  const { engine } = session.local;
  const samplesMs: number[] = [];
  for (let index = 0; index < repetitions; index++) {
    await flush(signal);
    const { ms, result } = await timed(() =>
      engine.snapshotDataset(datasetId, {
        provenance: { trigger: { kind: 'api', id: 'bench' }, pluginVersion: 'bench' },
        metadata: {},
      }),
    );
    samplesMs.push(ms);
    await engine.deleteSnapshot(result.id);
  }
  return { medianMs: median(samplesMs), samplesMs };
}
