import { type HostPlan, type MountPoint, mountPlan } from '../host-plan';
import { isAlreadyGone } from './must-exist';
import type { StepPorts } from './step-ports';

export interface RestoreTimeflowInput {
  vdbId: string;
  /** The timeflow the VDB had before the failed refresh or rollback. */
  previousTimeflowId: string;
  target: MountPoint;
}

/**
 * Undo of {@link createTimeflow} after a failed refresh or rollback, run once the new timeflow is
 * unmounted: makes the previous timeflow current again, deletes the one the workflow made (whatever
 * is current, if it is not the previous one), and plans the mount of the previous timeflow. It can run
 * at any point of the workflow and twice: with no new timeflow it only plans the mount.
 */
export async function restoreTimeflow(
  input: RestoreTimeflowInput,
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<{ mount: HostPlan }> {
  const vdb = await engine.getVdb(input.vdbId);
  if (vdb.currentTimeflowId !== input.previousTimeflowId) {
    await engine.switchTimeflow(vdb.id, input.previousTimeflowId);
    await engine.deleteTimeflow(vdb.currentTimeflowId).catch((error: unknown) => {
      if (!isAlreadyGone(error)) throw error;
    });
  }
  const exported = await engine.exportDataset(vdb.id, { readOnly: false });
  return { mount: mountPlan(input.target, exported) };
}
