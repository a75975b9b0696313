import { operations } from '../../plugins/directory-tree/operations';
import type { SourceConfigDefinition } from '../../plugins/directory-tree/schemas';
import { ErrorNames, SnapflowError } from '../errors';
import type { Vdb, VdbStatus } from '../model';
import type { StepPorts } from './step-ports';

/** The plugin operations that run once a VDB is mounted, before it counts as RUNNING. */
export type MountedVdbOperation = 'configure' | 'reconfigure' | 'start';

export interface UpdateVdbStateInput {
  vdbId: string;
  /** The plugin operation to run first; `configure` and `reconfigure` give the source config recorded. */
  operation?: MountedVdbOperation;
  status: Exclude<VdbStatus, 'PROVISIONING'>;
  enabled?: boolean;
}

/** The VDB's state as recorded. */
export interface VdbState {
  vdbId: string;
  status: VdbStatus;
  enabled: boolean;
}

/**
 * Records a VDB's state after a host step: RUNNING once it is mounted, after the plugin operation
 * that belongs there (`configure` on provision and refresh, `reconfigure` on rollback, enable and
 * after a failure, `start` on start), or STOPPED once it is unmounted.
 *
 * @throws ConflictError when `reconfigure` finds no source config: the VDB was never configured
 */
export async function updateVdbState(
  input: UpdateVdbStateInput,
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<VdbState> {
  const vdb = await engine.getVdb(input.vdbId);
  const sourceConfig = await runOperation(vdb, input.operation, engine);
  const updated = await engine.updateVdb(vdb.id, {
    status: input.status,
    ...(input.enabled === undefined ? {} : { enabled: input.enabled }),
    ...(sourceConfig === undefined ? {} : { sourceConfig }),
  });
  return { vdbId: updated.id, status: updated.status, enabled: updated.enabled };
}

async function runOperation(
  vdb: Vdb,
  operation: MountedVdbOperation | undefined,
  engine: StepPorts['engine'],
): Promise<SourceConfigDefinition | undefined> {
  switch (operation) {
    case undefined:
      return undefined;
    case 'configure': {
      const environment = await engine.getEnvironment(vdb.environmentId);
      return operations.virtual.configure({ parameters: vdb.parameters, environment });
    }
    case 'reconfigure':
      if (vdb.sourceConfig === undefined) {
        throw new SnapflowError(ErrorNames.Conflict, `VDB ${vdb.id} has no source config to reconfigure`, {
          field: 'vdbId',
          action: 'The VDB was never configured: delete it with delete-vdb and provision again.',
        });
      }
      return operations.virtual.reconfigure(vdb.sourceConfig);
    case 'start':
      operations.virtual.start();
      return undefined;
  }
}
