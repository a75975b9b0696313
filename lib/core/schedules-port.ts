import type { SnapshotPolicy } from './snapshot-policy';

/** A dSource or VDB as its snapshot schedule needs it. */
export interface ScheduledDataset {
  id: string;
  kind: 'dsource' | 'vdb';
  policy: SnapshotPolicy;
}

/**
 * Keeps one snapshot schedule per dataset whose policy has one: EventBridge Scheduler on AWS
 * (`lib/adapters/scheduler-schedules.ts`), the local scheduler in local mode. A schedule starts
 * what `scheduledSnapshotRun` says: a sync of a dSource, a snapshot of a VDB.
 */
export interface SchedulesPort {
  /**
   * Makes the dataset's schedule match its policy: creates or replaces it, or removes it when the
   * policy has no schedule. Safe to repeat.
   * @throws SnapflowError ValidationError naming `policy.schedule` when the schedule is refused
   */
  apply(dataset: ScheduledDataset): Promise<void>;
  /** Removes the dataset's schedule; a dataset without one is fine. */
  remove(datasetId: string): Promise<void>;
}
