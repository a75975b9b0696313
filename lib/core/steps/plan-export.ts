import { ErrorNames, SnapflowError } from '../errors';
import { type HostPlan, type MountPoint, mountPlan, unmountPlan } from '../host-plan';
import { mountLocationProblem, normalize, pathsOverlap } from '../paths';
import { validate } from '../validate';
import { type ExportInput, exportInputSchema } from '../workflow-inputs';
import { mustExist } from './must-exist';
import { resolveSnapshot } from './resolve-snapshot';
import type { StepPorts } from './step-ports';

export interface PlanExportInput {
  /** The workflow's input. */
  request: unknown;
  /** The execution's name, which names the scratch mount point so that concurrent exports never share one. */
  executionName: string;
}

/** The export's snapshot and target, and its host commands in the order the workflow runs them. */
export interface ExportPlan {
  vdbId: string;
  snapshotId: string;
  /** The target path, normalized. */
  targetPath: string;
  /** Mounts the snapshot read-only at a scratch mount point on the host. */
  mount: HostPlan;
  /** Copies the mounted snapshot to the target path. */
  export: HostPlan;
  /** Unmounts the snapshot and removes the scratch mount point. */
  unmount: HostPlan;
}

const field = 'targetPath';

/**
 * First step of the export (V2P) workflow: validates the request, resolves the snapshot (the one
 * named, which must be the VDB's own, or the VDB's latest), refuses a target path that no copy may
 * write to, exports the snapshot read-only and plans mount, copy and unmount on the host. The snapshot
 * is mounted at `<scratchPath>/v2p-<execution name>` on the environment.
 *
 * @throws ValidationError naming the field at fault; NotFoundError naming `vdbId`, `snapshotId` or
 *   `environmentId`; ConflictError when the VDB has no snapshot
 */
export async function planExport(input: PlanExportInput, { engine }: Pick<StepPorts, 'engine'>): Promise<ExportPlan> {
  const request = validate<ExportInput>(exportInputSchema, input.request, 'input');
  const problem = mountLocationProblem(request.targetPath);
  if (problem !== undefined) refuseTarget(`${field} ${problem}: ${request.targetPath}`);
  const vdb = await mustExist('vdbId', request.vdbId, () => engine.getVdb(request.vdbId));
  const snapshot = await resolveSnapshot(engine, {
    ...(request.snapshotId === undefined ? {} : { snapshotId: request.snapshotId }),
    datasetId: vdb.id,
    whose: `VDB ${vdb.id}`,
    datasetField: 'vdbId',
  });
  const environment = await mustExist('environmentId', request.environmentId, () =>
    engine.getEnvironment(request.environmentId),
  );
  const targetPath = normalize(request.targetPath);
  // The copy deletes what the snapshot lacks, through any mount below the target: a VDB there would lose data.
  const sameHost = new Set(
    (await engine.listEnvironments()).filter((other) => other.hostId === environment.hostId).map((other) => other.id),
  );
  const covered = (await engine.listVdbs()).find(
    (other) => sameHost.has(other.environmentId) && pathsOverlap(targetPath, other.parameters.mountLocation),
  );
  if (covered !== undefined) {
    refuseTarget(
      `${field} ${targetPath} overlaps the mount location ${covered.parameters.mountLocation} of VDB ${covered.id}`,
    );
  }
  const scratchPath = normalize(environment.scratchPath);
  if (pathsOverlap(targetPath, scratchPath)) {
    refuseTarget(`${field} ${targetPath} overlaps the scratch path ${scratchPath} of environment ${environment.id}`);
  }
  const scratch: MountPoint = {
    hostId: environment.hostId,
    mountPath: `${scratchPath}/v2p-${input.executionName.replace(/[^A-Za-z0-9._-]/g, '_')}`,
  };
  // The scratch mount point is checked as a mount location is: the documents refuse what this refuses.
  const scratchProblem = mountLocationProblem(scratch.mountPath);
  if (scratchProblem !== undefined) {
    throw new SnapflowError(
      ErrorNames.Validation,
      `environmentId ${environment.id} has the scratch path ${scratchPath}, where the snapshot's mount point ${scratchProblem}`,
      {
        field: 'environmentId',
        action: 'Give the environment a scratch path outside the system directories, e.g. /var/tmp/snapflow.',
      },
    );
  }
  const exported = await engine.exportSnapshot(snapshot.id);
  return {
    vdbId: vdb.id,
    snapshotId: snapshot.id,
    targetPath,
    mount: mountPlan(scratch, exported),
    export: {
      document: 'export',
      hostId: environment.hostId,
      parameters: { Source: [scratch.mountPath], Destination: [targetPath] },
    },
    unmount: unmountPlan(scratch, { removeMountPoint: true }),
  };
}

function refuseTarget(message: string): never {
  throw new SnapflowError(ErrorNames.Validation, message, {
    field,
    action:
      'Export to a directory of its own, outside the system directories, VDB mount locations and the scratch path, e.g. /srv/exports/<name>.',
  });
}
