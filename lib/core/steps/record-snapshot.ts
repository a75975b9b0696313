import { operations } from '../../plugins/directory-tree/operations';
import { pluginConfig } from '../../plugins/directory-tree/plugin-config';
import type { SnapshotParameters } from '../../plugins/directory-tree/schemas';
import type { Provenance } from '../model';
import type { Trigger } from '../workflow-inputs';
import type { StepPorts } from './step-ports';

/** What the sync workflow knows when its copy has finished. */
export interface RecordSnapshotInput {
  dsourceId: string;
  trigger: Trigger;
  snapshotParameters: SnapshotParameters;
  /** When the sync started (from {@link planSync}). */
  startedAt: string;
  /** Standard output of the copy command: rsync's `--stats` report. */
  copyOutput: string;
  /**
   * Makes a repeated call (a retry after an answer lost on the way) return the snapshot the first call
   * made instead of taking another: the execution and state that ask.
   */
  requestToken?: string;
}

/**
 * Snapshots the dSource's storage after a copy and records where the data came from: the trigger, what
 * rsync transferred, how long the sync took and which plugin version ran it.
 */
export async function recordSnapshot(
  input: RecordSnapshotInput,
  { engine, clock }: StepPorts,
): Promise<{ snapshotId: string }> {
  const durationMs = clock.now().getTime() - Date.parse(input.startedAt);
  const provenance: Provenance = {
    trigger: input.trigger,
    ...parseRsyncStats(input.copyOutput),
    ...(Number.isFinite(durationMs) ? { durationMs: Math.max(0, durationMs) } : {}),
    pluginVersion: pluginConfig.externalVersion,
    snapshotParameters: input.snapshotParameters,
  };
  const snapshot = await engine.snapshotDataset(input.dsourceId, {
    provenance,
    metadata: operations.linked.postSnapshot(),
    ...(input.requestToken === undefined ? {} : { requestToken: input.requestToken }),
  });
  return { snapshotId: snapshot.id };
}

/**
 * Reads the transfer counts from rsync's `--stats` report. rsync writes thousands separators
 * (`1,234`), and versions before 3.1 say "files" where later ones say "regular files". A count
 * that is missing (the report was cut off) is left out rather than guessed.
 */
export function parseRsyncStats(output: string): { filesTransferred?: number; bytesTransferred?: number } {
  const files = /^Number of (?:regular )?files transferred: ([\d,]+)\s*$/m.exec(output)?.[1];
  const bytes = /^Total transferred file size: ([\d,]+) bytes\s*$/m.exec(output)?.[1];
  return {
    ...(files === undefined ? {} : { filesTransferred: count(files) }),
    ...(bytes === undefined ? {} : { bytesTransferred: count(bytes) }),
  };
}

function count(digits: string): number {
  return Number(digits.replaceAll(',', ''));
}
