import { ErrorNames, isSnapflowError } from '../errors';
import type { DSource, Vdb } from '../model';
import type { EngineApi } from '../ports';
import { decideRetention, type RetentionCandidate, type RetentionDecision } from '../retention';
import { validate } from '../validate';
import { type RetentionInput, retentionInputSchema } from '../workflow-inputs';
import { mustExist } from './must-exist';
import type { StepPorts } from './step-ports';

/** What the retention workflow decided, and what it is to delete. */
export interface RetentionPlan {
  datasetId: string;
  dryRun: boolean;
  decision: RetentionDecision;
  /** The snapshots the run deletes, one at a time: the decision's, or none for a dry run. */
  deleteIds: string[];
}

/**
 * Second step of the retention workflow, under the dataset's lease: validates the request, loads the
 * dataset's policy and snapshots, counts the VDBs and timeflows cloned from each snapshot, and applies
 * the policy at the clock's time ({@link decideRetention}). It deletes nothing: a dry run and a run
 * decide alike, and only a run is given snapshots to delete.
 *
 * @throws ValidationError naming the field at fault; NotFoundError naming `datasetId` when it is
 *   neither a dSource nor a VDB
 */
export async function planRetention(input: unknown, { engine, clock }: StepPorts): Promise<RetentionPlan> {
  const request = validate<RetentionInput>(retentionInputSchema, input, 'input');
  const dataset = await loadDataset(engine, request.datasetId);
  const snapshots = await engine.listSnapshots({ datasetId: dataset.id });
  const candidates: RetentionCandidate[] = [];
  // One at a time: a dataset may have hundreds of snapshots, and the engine serves other runs too.
  for (const snapshot of snapshots) {
    const dependents = await engine.listDependents(snapshot.id);
    candidates.push({
      id: snapshot.id,
      createdAt: snapshot.createdAt,
      ...(snapshot.expiresAt === undefined ? {} : { expiresAt: snapshot.expiresAt }),
      ...(snapshot.retainForever === undefined ? {} : { retainForever: snapshot.retainForever }),
      dependents: dependents.length,
    });
  }
  const decision = decideRetention(candidates, dataset.policy, clock.now());
  return {
    datasetId: dataset.id,
    dryRun: request.dryRun,
    decision,
    deleteIds: request.dryRun ? [] : decision.delete.map((snapshot) => snapshot.id),
  };
}

/** The dSource or VDB `datasetId` names; the engine's API reads either kind by its own call. */
async function loadDataset(engine: EngineApi, datasetId: string): Promise<DSource | Vdb> {
  try {
    return await engine.getDSource(datasetId);
  } catch (error) {
    if (!isSnapflowError(error, ErrorNames.NotFound)) throw error;
  }
  return mustExist('datasetId', datasetId, () => engine.getVdb(datasetId));
}
