import { operations } from '../../plugins/directory-tree/operations';
import { type HostPlan, unmountPlan } from '../host-plan';
import type { LinkInput } from '../workflow-inputs';
import type { StepPorts } from './step-ports';

/** The new dSource, and how the link's undo unmounts it from the staging host before deleting it. */
export interface CreatedDSource {
  dsourceId: string;
  /**
   * Unmounts the dSource's storage at the staging mount location, and only that: another filesystem
   * mounted there (say, the one that made the sync's mount fail) stays.
   */
  unmount: HostPlan;
}

/**
 * Creates the dSource, its first timeflow and that timeflow's empty storage from a link request that
 * {@link validateLink} accepted, with the request's dsourceId, policy and event sources when it gave
 * them (the engine fills in the default policy otherwise), and plans the unmount
 * the link's undo runs before it deletes the dSource: a failed sync may have left the storage mounted.
 * If planning fails, the new dSource is deleted again before the error propagates.
 */
export async function createDSource(input: LinkInput, { engine }: Pick<StepPorts, 'engine'>): Promise<CreatedDSource> {
  const dsource = await engine.createDSource({
    ...(input.dsourceId === undefined ? {} : { id: input.dsourceId }),
    name: input.name,
    sourceConfigId: input.sourceConfigId,
    stagingEnvironmentId: input.stagingEnvironmentId,
    parameters: input.linkedSource,
    ...(input.policy === undefined ? {} : { policy: input.policy }),
    ...(input.eventSources === undefined ? {} : { eventSources: input.eventSources }),
  });
  try {
    const [stagingEnvironment, sourceConfig, exported] = await Promise.all([
      engine.getEnvironment(dsource.stagingEnvironmentId),
      engine.getSourceConfig(dsource.sourceConfigId),
      engine.exportDataset(dsource.id, { readOnly: false }),
    ]);
    const at = operations.linked.mountSpecification({
      parameters: dsource.parameters,
      stagingEnvironment,
      sourceConfig,
    });
    return { dsourceId: dsource.id, unmount: unmountPlan(at, { only: exported }) };
  } catch (error) {
    // The planning error is what the user must act on; should the delete fail too, the dSource stays,
    // where listing dSources shows it.
    await engine.deleteDSource(dsource.id).catch(() => undefined);
    throw error;
  }
}
