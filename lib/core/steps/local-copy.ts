import { isLocalAddress } from '../../plugins/directory-tree/operations';
import type { LinkedSourceParameters } from '../../plugins/directory-tree/schemas';
import { ErrorNames, SnapflowError } from '../errors';
import type { Environment, SourceConfig } from '../model';
import type { EngineApi } from '../ports';

/**
 * Refuses a local copy that would read the wrong host. A linked source whose address is the staging
 * host itself (`localhost`) copies the source config's path on the staging host, so the source config
 * must be on that host: otherwise the copy would read whatever lies at that path on the staging host.
 *
 * @throws ValidationError naming `linkedSource.sourceAddress`
 */
export async function refuseLocalCopyFromAnotherHost(
  engine: EngineApi,
  source: { parameters: LinkedSourceParameters; sourceConfig: SourceConfig; stagingEnvironment: Environment },
): Promise<void> {
  const { parameters, sourceConfig, stagingEnvironment } = source;
  if (!isLocalAddress(parameters.sourceAddress) || sourceConfig.environmentId === stagingEnvironment.id) return;
  const sourceEnvironment = await engine.getEnvironment(sourceConfig.environmentId);
  if (sourceEnvironment.hostId === stagingEnvironment.hostId) return;
  const field = 'linkedSource.sourceAddress';
  throw new SnapflowError(
    ErrorNames.Validation,
    `${field} ${parameters.sourceAddress} copies on the staging host ${stagingEnvironment.hostId} ` +
      `(environment ${stagingEnvironment.id}), but source config ${sourceConfig.id} is on host ` +
      `${sourceEnvironment.hostId} (environment ${sourceEnvironment.id})`,
    {
      field,
      action: `Give the address of host ${sourceEnvironment.hostId} as ${field} to copy from it over SSH, or stage on environment ${sourceEnvironment.id}.`,
    },
  );
}
