import { ErrorNames, SnapflowError } from '../errors';
import type { Snapshot } from '../model';
import type { EngineApi } from '../ports';
import { mustExist } from './must-exist';

/** Which snapshot a request asks for. */
export interface SnapshotChoice {
  /** The snapshot named in the request; absent means the latest of {@link datasetId}. */
  snapshotId?: string;
  /** The dSource or VDB the snapshot must belong to. */
  datasetId: string;
  /** How messages name that dataset, e.g. `the parent ds-… of VDB vdb-…`. */
  whose: string;
  /** The request field the dataset comes from, named when it does not exist or has no snapshot. */
  datasetField: string;
}

/**
 * The snapshot a request names, checked to belong to the right dataset, or that dataset's latest.
 *
 * @throws NotFoundError naming `snapshotId` or the dataset's field; ValidationError naming
 *   `snapshotId` for a snapshot of another dataset; ConflictError when the dataset has no snapshot
 */
export async function resolveSnapshot(engine: EngineApi, choice: SnapshotChoice): Promise<Snapshot> {
  const { snapshotId, datasetId, whose, datasetField } = choice;
  if (snapshotId !== undefined) {
    const snapshot = await mustExist('snapshotId', snapshotId, () => engine.getSnapshot(snapshotId));
    if (snapshot.datasetId !== datasetId) {
      throw new SnapflowError(
        ErrorNames.Validation,
        `snapshotId ${snapshotId} is a snapshot of ${snapshot.datasetId}, not of ${whose}`,
        { field: 'snapshotId', action: `Give one of the snapshots of ${datasetId}; list them by that dataset id.` },
      );
    }
    return snapshot;
  }
  const snapshots = await mustExist(datasetField, datasetId, () => engine.listSnapshots({ datasetId }));
  const latest = snapshots.at(-1);
  if (latest === undefined) {
    throw new SnapflowError(ErrorNames.Conflict, `${whose} has no snapshot yet`, {
      field: datasetField,
      action: `Take a snapshot of ${datasetId} first (sync a dSource, snapshot-vdb a VDB), or name one as snapshotId.`,
    });
  }
  return latest;
}
