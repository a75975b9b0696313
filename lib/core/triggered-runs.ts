import { Sha256 } from '@aws-crypto/sha256-js';
import type { RetentionInput, SnapshotVdbInput, SyncInput } from './workflow-inputs';

/**
 * The job id (execution name) of the run a trigger asks for: the workflow's name and 16 hex digits
 * of a hash of `key`, which names the trigger's occurrence and the dataset. Asking again for the
 * same run (a duplicate delivery, a retried invocation) gives the same name, which Step Functions
 * and the local jobs refuse to start twice. The id has the API's job id shape, so `GET /jobs/{id}`
 * finds the run.
 */
export function triggeredJobId(workflow: string, key: readonly string[]): string {
  const hash = new Sha256();
  hash.update(JSON.stringify(key));
  const hex = Array.from(hash.digestSync().subarray(0, 8), (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${workflow}-${hex}`;
}

/** A sync an event asks for. */
export interface EventSync {
  dsourceId: string;
  input: SyncInput;
  /** The same for the same event and dSource, so a duplicate delivery starts nothing new. */
  jobId: string;
}

/** The sync of `dsourceId` that the event `eventId` starts: no resync, the event as its trigger. */
export function eventSync(dsourceId: string, eventId: string): EventSync {
  return {
    dsourceId,
    input: { dsourceId, snapshotParameters: { resync: false }, trigger: { kind: 'event', id: eventId } },
    jobId: triggeredJobId('sync', [eventId, dsourceId]),
  };
}

/**
 * The trigger id of a scheduled run: `<datasetId>@<scheduled time>`, the time written as EventBridge
 * Scheduler writes `<aws.scheduler.scheduled-time>` (`2026-11-21T02:30:00Z`).
 */
export function scheduleTriggerId(datasetId: string, scheduledTime: string): string {
  return `${datasetId}@${scheduledTime}`;
}

/** The run a dataset's snapshot schedule starts: a sync of a dSource, a snapshot of a VDB. */
export type ScheduledSnapshotRun =
  | { workflow: 'sync'; input: SyncInput }
  | { workflow: 'snapshot-vdb'; input: SnapshotVdbInput };

/**
 * What a dataset's snapshot schedule starts at `scheduledTime`. On AWS the schedule's target input
 * is this run with `scheduledTime` = `<aws.scheduler.scheduled-time>`, which Scheduler fills in;
 * locally the scheduler passes the due time in the same format, so both record the same trigger id.
 */
export function scheduledSnapshotRun(
  dataset: { id: string; kind: 'dsource' | 'vdb' },
  scheduledTime: string,
): ScheduledSnapshotRun {
  const trigger = { kind: 'schedule', id: scheduleTriggerId(dataset.id, scheduledTime) } as const;
  return dataset.kind === 'dsource'
    ? { workflow: 'sync', input: { dsourceId: dataset.id, snapshotParameters: { resync: false }, trigger } }
    : { workflow: 'snapshot-vdb', input: { vdbId: dataset.id, trigger } };
}

/** A retention run the daily retention trigger starts. */
export interface RetentionRun {
  input: RetentionInput;
  /** The same for the same dataset and scheduled time. */
  jobId: string;
}

/** The retention run of `datasetId` for the retention schedule's run at `scheduledTime`; never a dry run. */
export function retentionRun(datasetId: string, scheduledTime: string): RetentionRun {
  return {
    input: { datasetId, dryRun: false, trigger: { kind: 'schedule', id: scheduleTriggerId(datasetId, scheduledTime) } },
    jobId: triggeredJobId('retention', [datasetId, scheduledTime]),
  };
}
