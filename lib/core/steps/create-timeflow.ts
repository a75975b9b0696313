import { ErrorNames, SnapflowError } from '../errors';
import { type HostPlan, type MountPoint, mountPlan, unmountPlan } from '../host-plan';
import type { Timeflow } from '../model';
import type { EngineApi } from '../ports';
import type { StepPorts } from './step-ports';

export interface CreateTimeflowInput {
  vdbId: string;
  snapshotId: string;
  kind: 'refresh' | 'rollback';
  /** The timeflow current when the workflow planned (from its plan step). */
  previousTimeflowId: string;
  target: MountPoint;
}

/** The VDB's new current timeflow and the host commands that mount it and unmount it (only it). */
export interface CreatedTimeflow {
  timeflowId: string;
  mount: HostPlan;
  unmount: HostPlan;
}

/**
 * Clones the snapshot into a new timeflow of the VDB, which becomes current (the previous one stays),
 * and exports it writable. A repeated call, after an answer lost on the way, finds its timeflow already
 * current and uses it rather than cloning another that nothing would ever delete.
 *
 * @throws ConflictError when another workflow changed the VDB's timeflow since the plan
 */
export async function createTimeflow(
  input: CreateTimeflowInput,
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<CreatedTimeflow> {
  const vdb = await engine.getVdb(input.vdbId);
  const timeflow =
    vdb.currentTimeflowId === input.previousTimeflowId
      ? (await engine.createTimeflow(vdb.id, { snapshotId: input.snapshotId, kind: input.kind })).timeflow
      : await alreadyCreated(engine, vdb.currentTimeflowId, input);
  const exported = await engine.exportDataset(vdb.id, { readOnly: false });
  return {
    timeflowId: timeflow.id,
    mount: mountPlan(input.target, exported),
    unmount: unmountPlan(input.target, { only: exported }),
  };
}

async function alreadyCreated(engine: EngineApi, currentId: string, input: CreateTimeflowInput): Promise<Timeflow> {
  const current = await engine.getTimeflow(currentId);
  if (current.kind === input.kind && current.parentSnapshotId === input.snapshotId) return current;
  throw new SnapflowError(
    ErrorNames.Conflict,
    `VDB ${input.vdbId} switched from timeflow ${input.previousTimeflowId} to ${currentId} while this ${input.kind} ran`,
    { field: 'vdbId', action: `Let the other workflow on VDB ${input.vdbId} end, then run the ${input.kind} again.` },
  );
}
