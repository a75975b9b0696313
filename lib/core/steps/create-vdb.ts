import { type HostPlan, type MountPoint, mountPlan, unmountPlan } from '../host-plan';
import type { EngineApi } from '../ports';
import type { StepPorts } from './step-ports';

/** What {@link planProvision} planned: the engine's createVdb input and the mount point. */
export interface CreateVdbInput {
  vdb: Parameters<EngineApi['createVdb']>[0];
  target: MountPoint;
}

/**
 * The new VDB, its first timeflow, and the host commands that mount it on the target and unmount it
 * again (only it: the provision's undo must not unmount what made its mount fail).
 */
export interface CreatedVdb {
  vdbId: string;
  timeflowId: string;
  mount: HostPlan;
  unmount: HostPlan;
}

/**
 * Clones the snapshot into a new VDB and exports its storage writable. If the export fails, the new
 * VDB is deleted again before the error propagates, so a failed step leaves nothing behind.
 */
export async function createVdb(input: CreateVdbInput, { engine }: Pick<StepPorts, 'engine'>): Promise<CreatedVdb> {
  const vdb = await engine.createVdb(input.vdb);
  try {
    const exported = await engine.exportDataset(vdb.id, { readOnly: false });
    return {
      vdbId: vdb.id,
      timeflowId: vdb.currentTimeflowId,
      mount: mountPlan(input.target, exported),
      unmount: unmountPlan(input.target, { only: exported }),
    };
  } catch (error) {
    // The export's error is what the user must act on; should the delete fail too, the VDB stays
    // PROVISIONING, where listing VDBs shows it.
    await engine.deleteVdb(vdb.id).catch(() => undefined);
    throw error;
  }
}
