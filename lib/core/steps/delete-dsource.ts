import { isAlreadyGone } from './must-exist';
import type { StepPorts } from './step-ports';

/**
 * Undo of {@link createDSource}: deletes the dSource and its storage. A dSource that is already gone
 * counts as deleted, so the undo can run twice.
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
