import { ErrorNames, isSnapflowError } from './errors';
import type { EngineApi } from './ports';
import type { SchedulesPort } from './schedules-port';
import type { SnapshotPolicy } from './snapshot-policy';

/** A dSource or VDB by id. */
export interface DatasetRef {
  id: string;
  kind: 'dsource' | 'vdb';
}

/**
 * The dataset a `link`, `provision`, `delete-dsource` or `delete-vdb` execution acted on: the
 * `dsourceId` or `vdbId` of its input, else of its output (a link or provision whose caller let the
 * engine choose the id). Undefined when neither names one, e.g. a link that failed before it chose.
 */
export function datasetOfExecution(input: unknown, output: unknown): DatasetRef | undefined {
  for (const document of [input, output]) {
    if (document === null || typeof document !== 'object') continue;
    const { dsourceId, vdbId } = document as Record<string, unknown>;
    if (typeof dsourceId === 'string') return { id: dsourceId, kind: 'dsource' };
    if (typeof vdbId === 'string') return { id: vdbId, kind: 'vdb' };
  }
  return undefined;
}

/**
 * Makes the dataset's snapshot schedule match what the engine records: its policy's schedule while
 * the dataset exists, none once it is gone. Run after every workflow that creates or deletes a
 * dataset, however it ended, it creates a schedule only for a dataset that exists and leaves none
 * behind a link that failed or a delete that succeeded.
 * @returns `applied` when the dataset has a schedule now, `removed` when it has none.
 */
export async function reconcileSchedule(
  dataset: DatasetRef,
  { engine, schedules }: { engine: EngineApi; schedules: SchedulesPort },
): Promise<'applied' | 'removed'> {
  let record: { policy: SnapshotPolicy };
  try {
    record = dataset.kind === 'dsource' ? await engine.getDSource(dataset.id) : await engine.getVdb(dataset.id);
  } catch (error) {
    if (!isSnapflowError(error, ErrorNames.NotFound)) throw error;
    await schedules.remove(dataset.id);
    return 'removed';
  }
  await schedules.apply({ ...dataset, policy: record.policy });
  return record.policy.schedule === null ? 'removed' : 'applied';
}
