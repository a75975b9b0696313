import { isAlreadyGone } from './must-exist';
import type { StepPorts } from './step-ports';

/**
 * Destroys the VDB's timeflows, snapshots, storage and record: the delete-vdb workflow's last step and
 * the undo of {@link createVdb}. A VDB that is already gone counts as deleted, so it can run twice.
 */
export async function deleteVdb(
  input: { vdbId: string },
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<{ vdbId: string }> {
  try {
    await engine.deleteVdb(input.vdbId);
  } catch (error) {
    if (!isAlreadyGone(error)) throw error;
  }
  return { vdbId: input.vdbId };
}
