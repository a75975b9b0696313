import type { LinkInput } from '../workflow-inputs';
import type { StepPorts } from './step-ports';

/** Creates the dSource and its empty storage from a link request that {@link validateLink} accepted. */
export async function createDSource(
  input: LinkInput,
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<{ dsourceId: string }> {
  const dsource = await engine.createDSource({
    name: input.name,
    sourceConfigId: input.sourceConfigId,
    stagingEnvironmentId: input.stagingEnvironmentId,
    parameters: input.linkedSource,
  });
  return { dsourceId: dsource.id };
}
