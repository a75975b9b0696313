import { isAlreadyGone } from './must-exist';
import type { StepPorts } from './step-ports';

/**
 * Deletes the dSource with its timeflow, snapshots and storage: the delete-dsource workflow's last step
 * and the undo of {@link createDSource}. A dSource that is already gone counts as deleted, so it can
 * run twice.
 */
export async function deleteDSource(
  input: { dsourceId: string },
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<{ dsourceId: string }> {
  try {
    await engine.deleteDSource(input.dsourceId);
  } catch (error) {
    if (!isAlreadyGone(error)) throw error;
  }
  return { dsourceId: input.dsourceId };
}
