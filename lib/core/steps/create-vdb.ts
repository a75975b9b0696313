import { type HostPlan, type MountPoint, mountPlan, unmountPlan } from '../host-plan';
import { normalize } from '../paths';
import type { ProvisionInput } from '../workflow-inputs';
import type { StepPorts } from './step-ports';

/** A provision request that {@link planProvision} accepted, with the mount point it planned. */
export type CreateVdbInput = ProvisionInput & { target: MountPoint };

/** The new VDB and the host commands that mount and unmount its storage on the target. */
export interface CreatedVdb {
  vdbId: string;
  mount: HostPlan;
  unmount: HostPlan;
}

/**
 * Clones the snapshot into a new VDB and exports its storage writable. If the export fails, the new
 * VDB is deleted again before the error propagates, so a failed step leaves nothing behind.
 */
export async function createVdb(input: CreateVdbInput, { engine }: Pick<StepPorts, 'engine'>): Promise<CreatedVdb> {
  const vdb = await engine.createVdb({
    name: input.name,
    snapshotId: input.snapshotId,
    environmentId: input.environmentId,
    parameters: { ...input.virtualSource, mountLocation: normalize(input.virtualSource.mountLocation) },
  });
  try {
    const exported = await engine.exportDataset(vdb.id, { readOnly: false });
    return { vdbId: vdb.id, mount: mountPlan(input.target, exported), unmount: unmountPlan(input.target) };
  } catch (error) {
    // The export's error is what the user must act on; should the delete fail too, the VDB stays
    // PROVISIONING, where listing VDBs shows it.
    await engine.deleteVdb(vdb.id).catch(() => undefined);
    throw error;
  }
}
