import { operations, type StagedSource } from '../../plugins/directory-tree/operations';
import { type HostPlan, mountPlan, unmountPlan } from '../host-plan';
import { validate } from '../validate';
import { type SyncInput, syncInputSchema } from '../workflow-inputs';
import { refuseLocalCopyFromAnotherHost } from './local-copy';
import { mustExist } from './must-exist';
import type { StepPorts } from './step-ports';

/** The host commands of one sync, in the order the workflow runs them, and when the sync started. */
export interface SyncPlan {
  mount: HostPlan;
  copy: HostPlan;
  unmount: HostPlan;
  /** ISO time the sync started; {@link recordSnapshot} measures the duration from it. */
  startedAt: string;
}

/**
 * First step of the sync workflow: validates the request, loads the dSource with its source config and
 * staging environment, exports the dSource's storage writable, and plans mount, copy and unmount on the
 * staging host.
 *
 * @throws ValidationError naming the field at fault, or `linkedSource.sourceAddress` for a copy from
 *   `localhost` whose source config is on another host; NotFoundError naming `dsourceId`
 */
export async function planSync(input: unknown, { engine, clock }: StepPorts): Promise<SyncPlan> {
  const request = validate<SyncInput>(syncInputSchema, input, 'input');
  const startedAt = clock.now().toISOString();
  const dsource = await mustExist('dsourceId', request.dsourceId, () => engine.getDSource(request.dsourceId));
  const [sourceConfig, stagingEnvironment] = await Promise.all([
    engine.getSourceConfig(dsource.sourceConfigId),
    engine.getEnvironment(dsource.stagingEnvironmentId),
  ]);
  const source: StagedSource = { parameters: dsource.parameters, stagingEnvironment, sourceConfig };
  // Checked at link too; a dSource linked before that check existed is refused here.
  await refuseLocalCopyFromAnotherHost(engine, source);
  const exported = await engine.exportDataset(dsource.id, { readOnly: false });
  const at = operations.linked.mountSpecification(source);
  return {
    mount: mountPlan(at, exported),
    copy: operations.linked.preSnapshot(source, request.snapshotParameters),
    unmount: unmountPlan(at),
    startedAt,
  };
}
