import { ErrorNames, SnapflowError } from '../errors';
import { type HostPlan, type MountPoint, mountPlan, unmountPlan } from '../host-plan';
import { mountLocationProblem, normalize, type PathInUse, pathClash } from '../paths';
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
  const scratchPath = normalize(environment.scratchPath);
  // The copy deletes what the snapshot lacks, through any mount below the target: a dataset mounted
  // there, or the engine's storage, would lose data.
  const [environments, dsources, vdbs, timeflows, snapshots] = await Promise.all([
    engine.listEnvironments(),
    engine.listDSources(),
    engine.listVdbs(),
    engine.listTimeflows(),
    engine.listSnapshots(),
  ]);
  const hostOf = (environmentId: string) => environments.find((other) => other.id === environmentId)?.hostId;
  const inUse: PathInUse[] = [
    ...vdbs.map((other) => ({
      path: other.parameters.mountLocation,
      hostId: hostOf(other.environmentId),
      label: `the mount location ${other.parameters.mountLocation} of VDB ${other.id}`,
    })),
    ...dsources.map((dsource) => ({
      path: dsource.parameters.mountLocation,
      hostId: hostOf(dsource.stagingEnvironmentId),
      label: `the staging mount location ${dsource.parameters.mountLocation} of dSource ${dsource.id}`,
    })),
    {
      path: scratchPath,
      hostId: environment.hostId,
      label: `the scratch path ${scratchPath} of environment ${environment.id}`,
    },
  ];
  // The engine's root is not part of EngineApi; the trees in its storage are, wherever the pool is.
  const storage = [
    ...timeflows.map((timeflow) => ({
      path: timeflow.path,
      label: `the storage ${timeflow.path} of timeflow ${timeflow.id}`,
    })),
    ...snapshots.map((other) => ({ path: other.path, label: `the storage ${other.path} of snapshot ${other.id}` })),
  ];
  const clash = pathClash(targetPath, environment.hostId, inUse, storage);
  if (clash !== undefined) refuseTarget(`${field} ${targetPath} overlaps ${clash.label}`);
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
      "Export to a directory of its own, outside the system directories, the mount locations of VDBs and dSource staging, the scratch path and the engine's storage, e.g. /srv/exports/<name>.",
  });
}
