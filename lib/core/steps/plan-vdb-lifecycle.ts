import { operations } from '../../plugins/directory-tree/operations';
import type { Vdb } from '../model';
import type { EngineApi } from '../ports';
import { validate } from '../validate';
import { type VdbLifecycleInput, workflowInputSchemas } from '../workflow-inputs';
import { loadVdb, planVdbHost, requireVdbState, type VdbHostPlan } from './load-vdb';
import { refuseDependents } from './refuse-dependents';
import type { StepPorts } from './step-ports';

/** The workflows that mount, unmount, enable, disable or delete a VDB without changing its data. */
export type VdbLifecycleWorkflow = 'start-vdb' | 'stop-vdb' | 'enable-vdb' | 'disable-vdb' | 'delete-vdb';

export interface PlanVdbLifecycleInput {
  /** Which workflow plans; its state machine says so. */
  workflow: VdbLifecycleWorkflow;
  /** The workflow's input. */
  request: unknown;
}

export interface VdbLifecyclePlan extends VdbHostPlan {
  /** What `virtual.status` answered, for enable-vdb: an ACTIVE dataset is up and needs no mount. */
  pluginStatus?: 'ACTIVE' | 'INACTIVE';
}

type BeforeHostStep = (vdb: Vdb, engine: EngineApi) => Promise<Pick<VdbLifecyclePlan, 'pluginStatus'>>;

/**
 * What each workflow checks and which plugin operations it runs before its host step, in the SDK's
 * order (§4.11–4.15). Start and enable run theirs after the mount, in UpdateVdbState.
 */
const BEFORE_HOST_STEP: Record<VdbLifecycleWorkflow, BeforeHostStep> = {
  'start-vdb': async (vdb) => {
    requireVdbState(vdb, 'start-vdb');
    return {};
  },
  'stop-vdb': async (vdb) => {
    requireVdbState(vdb, 'stop-vdb');
    operations.virtual.stop();
    return {};
  },
  'enable-vdb': async (vdb) => {
    requireVdbState(vdb, 'enable-vdb', { enabled: false });
    return { pluginStatus: operations.virtual.status() };
  },
  'disable-vdb': async (vdb) => {
    requireVdbState(vdb, 'disable-vdb', { enabled: false });
    operations.virtual.unconfigure();
    return {};
  },
  // Any VDB may be deleted, also one a failed provision left PROVISIONING, unless others depend on it.
  'delete-vdb': async (vdb, engine) => {
    await refuseDependents(engine, 'VDB', vdb.id, 'vdbId');
    operations.virtual.unconfigure();
    operations.virtual.cleanup();
    return {};
  },
};

/**
 * First step of start-vdb, stop-vdb, enable-vdb, disable-vdb and delete-vdb: validates the request
 * against the workflow's schema, refuses a VDB in a state the workflow does not apply to (start and
 * stop refuse a disabled VDB; delete one that others depend on, before anything is touched), runs the
 * plugin operations that come before the host step, and plans the VDB's mount and unmount.
 *
 * @throws ValidationError naming the field at fault; NotFoundError naming `vdbId`; ConflictError or
 *   DependentsExistError naming `vdbId`
 */
export async function planVdbLifecycle(
  input: PlanVdbLifecycleInput,
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<VdbLifecyclePlan> {
  const request = validate<VdbLifecycleInput>(workflowInputSchemas[input.workflow], input.request, 'input');
  const loaded = await loadVdb(engine, request.vdbId);
  const before = await BEFORE_HOST_STEP[input.workflow](loaded.vdb, engine);
  return { ...(await planVdbHost(engine, loaded)), ...before };
}
