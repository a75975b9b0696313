import { describeCause } from '../error-text';
import { formatRetentionReport } from '../retention';
import type { CaughtError } from './note-undo-failure';
import type { RetentionPlan } from './plan-retention';

/** How one delete of the retention workflow ended: deleted, or refused with the error the Map caught. */
export interface SnapshotDeletion {
  snapshotId: string;
  error?: CaughtError;
}

export interface ReportRetentionInput {
  plan: RetentionPlan;
  /** One per snapshot of {@link RetentionPlan.deleteIds}, in that order; none for a dry run. */
  deletions: SnapshotDeletion[];
}

/** The retention workflow's output. */
export interface RetentionReport {
  datasetId: string;
  dryRun: boolean;
  /** Newest first, with every reason that keeps each. */
  kept: { id: string; reasons: string[] }[];
  /** Newest first: what the run deleted, or for a dry run what a run would delete. */
  deleted: { id: string; reason: string }[];
  /** Snapshots the decision deleted but the engine refused to: a clone was made from them since. */
  skipped: { id: string; error: string }[];
  /** {@link formatRetentionReport}'s table, and a line for each snapshot skipped. */
  report: string;
}

/**
 * Last step of the retention workflow: what it kept, deleted and could not delete, as data and as a
 * table for people. A dry run reports the decision's deletes as `deleted`, exactly what a run at the
 * same moment would delete.
 */
export async function reportRetention(input: ReportRetentionInput): Promise<RetentionReport> {
  const { plan, deletions } = input;
  const refused = new Map(
    deletions.flatMap((deletion) =>
      deletion.error === undefined
        ? []
        : [[deletion.snapshotId, `${deletion.error.Error}: ${describeCause(deletion.error.Cause).message}`] as const],
    ),
  );
  const skipped = [...refused].map(([id, error]) => ({ id, error }));
  return {
    datasetId: plan.datasetId,
    dryRun: plan.dryRun,
    kept: plan.decision.keep.map((kept) => ({ id: kept.id, reasons: kept.reasons })),
    deleted: plan.decision.delete
      .filter((deleted) => !refused.has(deleted.id))
      .map((deleted) => ({ id: deleted.id, reason: deleted.reason })),
    skipped,
    report: [
      formatRetentionReport(plan.decision, { dryRun: plan.dryRun }),
      ...(skipped.length === 0
        ? []
        : ['', 'Not deleted after all:', ...skipped.map(({ id, error }) => `${id}  ${error}`)]),
    ].join('\n'),
  };
}
