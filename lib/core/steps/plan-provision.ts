import { operations } from '../../plugins/directory-tree/operations';
import { ErrorNames, SnapflowError } from '../errors';
import { checkMountPointPlan, type HostPlan, type MountPoint } from '../host-plan';
import { mountLocationProblem, normalize } from '../paths';
import { validate } from '../validate';
import { type ProvisionInput, provisionInputSchema } from '../workflow-inputs';
import { mustExist } from './must-exist';
import type { StepPorts } from './step-ports';

/** Where the VDB will be mounted, and the host check that must pass before anything is created. */
export interface ProvisionPlan {
  target: MountPoint;
  check: HostPlan;
}

const field = 'virtualSource.mountLocation';

/**
 * First step of the provision workflow: validates the request, refuses mount locations no mount may
 * use, checks that the snapshot and the target environment exist, and plans the check of the target
 * mount point. Nothing is created here.
 *
 * @throws ValidationError naming the field at fault; NotFoundError naming `snapshotId` or `environmentId`
 */
export async function planProvision(input: unknown, { engine }: Pick<StepPorts, 'engine'>): Promise<ProvisionPlan> {
  const request = validate<ProvisionInput>(provisionInputSchema, input, 'input');
  const problem = mountLocationProblem(request.virtualSource.mountLocation);
  if (problem !== undefined) {
    throw new SnapflowError(ErrorNames.Validation, `${field} ${problem}: ${request.virtualSource.mountLocation}`, {
      field,
      action: 'Mount the VDB on a directory of its own outside the system directories, e.g. /mnt/vdbs/<name>.',
    });
  }
  await mustExist('snapshotId', request.snapshotId, () => engine.getSnapshot(request.snapshotId));
  const environment = await mustExist('environmentId', request.environmentId, () =>
    engine.getEnvironment(request.environmentId),
  );
  const parameters = { mountLocation: normalize(request.virtualSource.mountLocation) };
  const target = operations.virtual.mountSpecification({ parameters, environment });
  return { target, check: checkMountPointPlan(target) };
}
