import { isAlreadyGone } from './must-exist';
import type { StepPorts } from './step-ports';

/**
 * Undo of {@link createVdb}: destroys the VDB's storage and record. A VDB that is already gone counts
 * as deleted, so the undo can run twice.
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
