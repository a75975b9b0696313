import type { DatasetSchedules } from '../../lib/api/api-ports';
import type { ScheduledDataset } from '../../lib/core/schedules-port';

/** Schedules that record what they are asked to apply and remove, and know a next run for some datasets. */
export type StubSchedules = DatasetSchedules & { applied: ScheduledDataset[]; removed: string[] };

export function stubSchedules(nextRuns: Readonly<Record<string, Date>> = {}): StubSchedules {
  const applied: ScheduledDataset[] = [];
  const removed: string[] = [];
  return {
    applied,
    removed,
    apply: async (dataset) => {
      applied.push(dataset);
    },
    remove: async (datasetId) => {
      removed.push(datasetId);
    },
    nextRunAt: (datasetId) => nextRuns[datasetId],
  };
}
