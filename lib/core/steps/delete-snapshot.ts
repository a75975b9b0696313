import { isAlreadyGone } from './must-exist';
import type { StepPorts } from './step-ports';

/**
 * Deletes a snapshot: the sync's undo when its last unmount fails, so that a failed sync leaves no
 * snapshot, and each delete the retention workflow decided on. A snapshot that is already gone counts
 * as deleted, so it can run twice.
 *
 * @throws DependentsExistError when a VDB or timeflow was cloned from the snapshot in the meantime
 */
export async function deleteSnapshot(
  input: { snapshotId: string },
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<{ snapshotId: string }> {
  try {
    await engine.deleteSnapshot(input.snapshotId);
  } catch (error) {
    if (!isAlreadyGone(error)) throw error;
  }
  return { snapshotId: input.snapshotId };
}
