import type { LinkInput } from '../workflow-inputs';
import type { StepPorts } from './step-ports';

/**
 * Creates the dSource, its first timeflow and that timeflow's empty storage from a link request that
 * {@link validateLink} accepted, with the request's dsourceId when it chose one.
 */
export async function createDSource(
  input: LinkInput,
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<{ dsourceId: string }> {
  const dsource = await engine.createDSource({
    ...(input.dsourceId === undefined ? {} : { id: input.dsourceId }),
    name: input.name,
    sourceConfigId: input.sourceConfigId,
    stagingEnvironmentId: input.stagingEnvironmentId,
    parameters: input.linkedSource,
  });
  return { dsourceId: dsource.id };
}
