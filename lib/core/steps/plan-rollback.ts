import { validate } from '../validate';
import { type RollbackInput, rollbackInputSchema } from '../workflow-inputs';
import { loadVdb, requireVdbState } from './load-vdb';
import { resolveSnapshot } from './resolve-snapshot';
import type { StepPorts } from './step-ports';
import { type TimeflowChangePlan, timeflowChangePlan } from './timeflow-change-plan';

/**
 * First step of the rollback workflow: validates the request, requires a RUNNING VDB and a snapshot
 * of the VDB's own (of any of its timeflows). Then `virtual.unconfigure`, and the unmount is planned.
 *
 * @throws ValidationError naming the field at fault or a snapshot of another dataset; NotFoundError
 *   naming `vdbId` or `snapshotId`; ConflictError for a VDB that is not RUNNING and enabled
 */
export async function planRollback(input: unknown, { engine }: Pick<StepPorts, 'engine'>): Promise<TimeflowChangePlan> {
  const request = validate<RollbackInput>(rollbackInputSchema, input, 'input');
  const loaded = await loadVdb(engine, request.vdbId);
  requireVdbState(loaded.vdb, 'rollback', { running: true });
  const snapshot = await resolveSnapshot(engine, {
    snapshotId: request.snapshotId,
    datasetId: loaded.vdb.id,
    whose: `VDB ${loaded.vdb.id}`,
    datasetField: 'vdbId',
  });
  return timeflowChangePlan(loaded, snapshot);
}
