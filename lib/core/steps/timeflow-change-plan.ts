import { operations } from '../../plugins/directory-tree/operations';
import { type HostPlan, type MountPoint, unmountPlan } from '../host-plan';
import type { Snapshot } from '../model';
import type { VdbOnHost } from './load-vdb';

/** What refresh and rollback plan before they touch the host. */
export interface TimeflowChangePlan {
  vdbId: string;
  /** The snapshot the new timeflow is cloned from. */
  snapshotId: string;
  /** The timeflow mounted now, to which a failed workflow returns. */
  previousTimeflowId: string;
  target: MountPoint;
  /** Unmounts the VDB, before the switch and, after a failure, the new timeflow. */
  unmount: HostPlan;
}

/**
 * Runs the plugin's `virtual.unconfigure`, which comes before the unmount in both refresh and rollback
 * (SDK §4.9–4.10), and plans that unmount.
 */
export function timeflowChangePlan({ vdb, target }: VdbOnHost, snapshot: Snapshot): TimeflowChangePlan {
  operations.virtual.unconfigure();
  return {
    vdbId: vdb.id,
    snapshotId: snapshot.id,
    previousTimeflowId: vdb.currentTimeflowId,
    target,
    unmount: unmountPlan(target),
  };
}
