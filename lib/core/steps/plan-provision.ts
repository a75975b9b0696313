import { operations } from '../../plugins/directory-tree/operations';
import { ErrorNames, SnapflowError } from '../errors';
import { checkMountPointPlan, type HostPlan, type MountPoint } from '../host-plan';
import { newId } from '../ids';
import { mountLocationProblem, normalize } from '../paths';
import type { EngineApi } from '../ports';
import { parseSnapshotPolicy } from '../snapshot-policy';
import { validate } from '../validate';
import { type ProvisionInput, provisionInputSchema } from '../workflow-inputs';
import { mustExist, refuseTakenId } from './must-exist';
import { resolveSnapshot } from './resolve-snapshot';
import type { StepPorts } from './step-ports';

/** Where the VDB will be mounted, the host check that must pass first, and what to ask the engine for. */
export interface ProvisionPlan {
  target: MountPoint;
  check: HostPlan;
  /**
   * The engine's createVdb input: the snapshot resolved, the mount location normalized, and always an
   * id, so that a retried create makes nothing twice and the undo knows what to delete even when the
   * create's answer never came.
   */
  vdb: Parameters<EngineApi['createVdb']>[0] & { id: string };
}

const field = 'virtualSource.mountLocation';

/**
 * First step of the provision workflow: validates the request and its snapshot policy, refuses mount
 * locations no mount may use, resolves the snapshot (the one named, or the latest of `sourceDataId`), checks that the target
 * environment exists and that a chosen vdbId is free (the provision's undo deletes the VDB, which must
 * be its own), chooses a new vdbId when none is given, and plans the check of the target mount point.
 * Nothing is created here.
 *
 * @throws ValidationError naming the field at fault, or when not exactly one of `snapshotId` and
 *   `sourceDataId` is given; NotFoundError naming `snapshotId`, `sourceDataId` or `environmentId`;
 *   ConflictError naming `sourceDataId` when it has no snapshot, or `vdbId` when it is taken
 */
export async function planProvision(input: unknown, { engine }: Pick<StepPorts, 'engine'>): Promise<ProvisionPlan> {
  const request = validate<ProvisionInput>(provisionInputSchema, input, 'input');
  // The engine checks it again when it creates the VDB; here a bad policy touches no host.
  if (request.policy !== undefined) parseSnapshotPolicy(request.policy, 'policy');
  const problem = mountLocationProblem(request.virtualSource.mountLocation);
  if (problem !== undefined) {
    throw new SnapflowError(ErrorNames.Validation, `${field} ${problem}: ${request.virtualSource.mountLocation}`, {
      field,
      action: 'Mount the VDB on a directory of its own outside the system directories, e.g. /mnt/vdbs/<name>.',
    });
  }
  const snapshotId = await chosenSnapshotId(engine, request);
  const environment = await mustExist('environmentId', request.environmentId, () =>
    engine.getEnvironment(request.environmentId),
  );
  const chosen = request.vdbId;
  if (chosen !== undefined) await refuseTakenId('vdbId', chosen, () => engine.getVdb(chosen));
  const parameters = { ...request.virtualSource, mountLocation: normalize(request.virtualSource.mountLocation) };
  const target = operations.virtual.mountSpecification({ parameters, environment });
  return {
    target,
    check: checkMountPointPlan(target),
    vdb: {
      id: chosen ?? newId('vdb'),
      name: request.name,
      snapshotId,
      environmentId: environment.id,
      parameters,
      ...(request.policy === undefined ? {} : { policy: request.policy }),
    },
  };
}

async function chosenSnapshotId(engine: EngineApi, request: ProvisionInput): Promise<string> {
  const { snapshotId, sourceDataId } = request;
  if (snapshotId !== undefined && sourceDataId !== undefined) {
    throw new SnapflowError(ErrorNames.Validation, 'input has both snapshotId and sourceDataId', {
      field: 'sourceDataId',
      action:
        'Give snapshotId for a particular snapshot, or sourceDataId for the latest of a dSource or VDB; not both.',
    });
  }
  if (snapshotId !== undefined) {
    return (await mustExist('snapshotId', snapshotId, () => engine.getSnapshot(snapshotId))).id;
  }
  if (sourceDataId === undefined) {
    throw new SnapflowError(ErrorNames.Validation, 'input has neither snapshotId nor sourceDataId', {
      field: 'snapshotId',
      action: 'Give snapshotId for a particular snapshot, or sourceDataId for the latest of a dSource or VDB.',
    });
  }
  const latest = await resolveSnapshot(engine, {
    datasetId: sourceDataId,
    whose: `sourceDataId ${sourceDataId}`,
    datasetField: 'sourceDataId',
  });
  return latest.id;
}
