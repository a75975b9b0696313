import { operations } from '../../plugins/directory-tree/operations';
import { ErrorNames, SnapflowError } from '../errors';
import { type HostPlan, type MountPoint, mountPlan, unmountPlan } from '../host-plan';
import type { Environment, Vdb } from '../model';
import type { EngineApi } from '../ports';
import type { WorkflowName } from '../workflow-inputs';
import { mustExist } from './must-exist';

/** A VDB, the environment it is mounted on, and where the plugin mounts it there. */
export interface VdbOnHost {
  vdb: Vdb;
  environment: Environment;
  target: MountPoint;
}

/**
 * Loads the VDB a request names, with its environment and mount point.
 *
 * @throws NotFoundError naming `vdbId`
 */
export async function loadVdb(engine: EngineApi, vdbId: string): Promise<VdbOnHost> {
  const vdb = await mustExist('vdbId', vdbId, () => engine.getVdb(vdbId));
  const environment = await engine.getEnvironment(vdb.environmentId);
  const target = operations.virtual.mountSpecification({ parameters: vdb.parameters, environment });
  return { vdb, environment, target };
}

export interface RequiredVdbState {
  /** The VDB must be enabled. @default true */
  enabled?: boolean;
  /** The VDB must be RUNNING (mounted and configured). @default false */
  running?: boolean;
}

/**
 * Refuses a VDB whose state does not allow `workflow`: one still PROVISIONING (a provision that has
 * not ended, or failed and could not be undone) allows nothing but delete.
 *
 * @throws ConflictError naming `vdbId`, whose action names the workflow that would help
 */
export function requireVdbState(vdb: Vdb, workflow: WorkflowName, required: RequiredVdbState = {}): void {
  const refuse = (state: string, action: string): never => {
    throw new SnapflowError(ErrorNames.Conflict, `${workflow} refused: VDB ${vdb.id} ${state}`, {
      field: 'vdbId',
      action,
    });
  };
  if (vdb.status === 'PROVISIONING') {
    refuse(
      'is still PROVISIONING',
      'Wait for its provision to end; if the provision failed, delete the VDB with delete-vdb and provision again.',
    );
  }
  if ((required.enabled ?? true) && !vdb.enabled) refuse('is disabled', 'Enable it first with enable-vdb.');
  if (required.running === true && vdb.status !== 'RUNNING') {
    refuse(`is ${vdb.status}`, 'Start it first with start-vdb.');
  }
}

/** The host commands that mount and unmount a VDB's current timeflow on its target host. */
export interface VdbHostPlan {
  vdbId: string;
  /** Whether the VDB was mounted (RUNNING) when the workflow began, so that a failure restores just that. */
  mounted: boolean;
  /** Mounts the current timeflow at the VDB's mount location; mounting what is already there succeeds. */
  mount: HostPlan;
  /**
   * Unmounts it, and only it (a bind of its export): another filesystem mounted at the mount location
   * is not the VDB's and stays. Succeeds when nothing of it is mounted.
   */
  unmount: HostPlan;
}

/** Exports the VDB's current timeflow writable and plans its mount and unmount. */
export async function planVdbHost(engine: EngineApi, { vdb, target }: VdbOnHost): Promise<VdbHostPlan> {
  const exported = await engine.exportDataset(vdb.id, { readOnly: false });
  return {
    vdbId: vdb.id,
    mounted: vdb.status === 'RUNNING',
    mount: mountPlan(target, exported),
    unmount: unmountPlan(target, { only: exported }),
  };
}
