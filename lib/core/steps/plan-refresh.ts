import { validate } from '../validate';
import { type RefreshInput, refreshInputSchema } from '../workflow-inputs';
import { loadVdb, requireVdbState } from './load-vdb';
import { resolveSnapshot } from './resolve-snapshot';
import type { StepPorts } from './step-ports';
import { type TimeflowChangePlan, timeflowChangePlan } from './timeflow-change-plan';

/**
 * First step of the refresh workflow: validates the request, requires a RUNNING VDB, and resolves the
 * snapshot to refresh from: the one named, which must be of the VDB's parent dataset, or the parent's
 * latest. Then `virtual.unconfigure`, and the unmount is planned.
 *
 * @throws ValidationError naming the field at fault or a snapshot of another dataset; NotFoundError
 *   naming `vdbId` or `snapshotId`; ConflictError for a VDB that is not RUNNING and enabled
 */
export async function planRefresh(input: unknown, { engine }: Pick<StepPorts, 'engine'>): Promise<TimeflowChangePlan> {
  const request = validate<RefreshInput>(refreshInputSchema, input, 'input');
  const loaded = await loadVdb(engine, request.vdbId);
  const { vdb } = loaded;
  requireVdbState(vdb, 'refresh', { running: true });
  const snapshot = await resolveSnapshot(engine, {
    ...(request.snapshotId === undefined ? {} : { snapshotId: request.snapshotId }),
    datasetId: vdb.parentDatasetId,
    whose: `the parent ${vdb.parentDatasetId} of VDB ${vdb.id}`,
    datasetField: 'vdbId',
  });
  return timeflowChangePlan(loaded, snapshot);
}
