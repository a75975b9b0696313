import { operations } from '../../plugins/directory-tree/operations';
import { type HostPlan, unmountPlan } from '../host-plan';
import { validate } from '../validate';
import { type DeleteDSourceInput, deleteDSourceInputSchema } from '../workflow-inputs';
import { mustExist } from './must-exist';
import { refuseDependents } from './refuse-dependents';
import type { StepPorts } from './step-ports';

/** The dSource to delete and the unmount of its staging mount (only its own storage). */
export interface DeleteDSourcePlan {
  dsourceId: string;
  unmount: HostPlan;
}

/**
 * First step of the delete-dsource workflow: validates the request, refuses a dSource that VDBs or
 * their timeflows depend on before anything is touched, runs the plugin's `linked.stopStaging` and
 * plans the unmount of the staging mount (SDK §4.4), which a sync that failed half-way may have left.
 *
 * @throws ValidationError naming the field at fault; NotFoundError or DependentsExistError naming `dsourceId`
 */
export async function planDeleteDSource(
  input: unknown,
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<DeleteDSourcePlan> {
  const request = validate<DeleteDSourceInput>(deleteDSourceInputSchema, input, 'input');
  const dsource = await mustExist('dsourceId', request.dsourceId, () => engine.getDSource(request.dsourceId));
  await refuseDependents(engine, 'dSource', dsource.id, 'dsourceId');
  const [sourceConfig, stagingEnvironment] = await Promise.all([
    engine.getSourceConfig(dsource.sourceConfigId),
    engine.getEnvironment(dsource.stagingEnvironmentId),
  ]);
  const source = { parameters: dsource.parameters, stagingEnvironment, sourceConfig };
  operations.linked.stopStaging();
  const exported = await engine.exportDataset(dsource.id, { readOnly: false });
  return {
    dsourceId: dsource.id,
    unmount: unmountPlan(operations.linked.mountSpecification(source), { only: exported }),
  };
}
