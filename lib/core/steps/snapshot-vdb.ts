import { operations } from '../../plugins/directory-tree/operations';
import { pluginConfig } from '../../plugins/directory-tree/plugin-config';
import { validate } from '../validate';
import { type SnapshotVdbInput, snapshotVdbInputSchema } from '../workflow-inputs';
import { requireVdbState } from './load-vdb';
import { mustExist } from './must-exist';
import type { StepPorts } from './step-ports';

export interface SnapshotVdbStepInput {
  /** The snapshot-vdb workflow's input, `{ vdbId, trigger }`. */
  request: unknown;
  /**
   * Makes a repeated call (a retry after an answer lost on the way) return the snapshot the first call
   * made instead of taking another: the execution and state that ask.
   */
  requestToken?: string;
}

/**
 * The snapshot-vdb workflow's one step, also the provision workflow's first snapshot: validates the
 * request, runs the plugin's `virtual.preSnapshot`, and snapshots the VDB's current timeflow with its
 * trigger and the plugin version. The `virtual.postSnapshot` metadata goes into the same engine call,
 * so that no snapshot exists without it.
 *
 * @throws ValidationError naming the field at fault; NotFoundError naming `vdbId`; ConflictError for a
 *   VDB that is disabled or still provisioning
 */
export async function snapshotVdb(
  input: SnapshotVdbStepInput,
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<{ vdbId: string; snapshotId: string }> {
  const request = validate<SnapshotVdbInput>(snapshotVdbInputSchema, input.request, 'input');
  const vdb = await mustExist('vdbId', request.vdbId, () => engine.getVdb(request.vdbId));
  requireVdbState(vdb, 'snapshot-vdb');
  operations.virtual.preSnapshot();
  const snapshot = await engine.snapshotDataset(vdb.id, {
    provenance: { trigger: request.trigger, pluginVersion: pluginConfig.externalVersion },
    metadata: operations.virtual.postSnapshot(),
    ...(input.requestToken === undefined ? {} : { requestToken: input.requestToken }),
  });
  return { vdbId: vdb.id, snapshotId: snapshot.id };
}
