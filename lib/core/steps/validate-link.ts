import { operations } from '../../plugins/directory-tree/operations';
import { ErrorNames, SnapflowError } from '../errors';
import { mountLocationProblem, normalize, pathsOverlap } from '../paths';
import { parseSnapshotPolicy } from '../snapshot-policy';
import { validate } from '../validate';
import { type LinkInput, linkInputSchema } from '../workflow-inputs';
import { refuseLocalCopyFromAnotherHost } from './local-copy';
import { mustExist, refuseTakenId } from './must-exist';
import type { StepPorts } from './step-ports';

const field = 'linkedSource.mountLocation';

/**
 * First step of the link workflow: checks the request against the plugin's schemas and the snapshot
 * policy's rules (a valid cron and time zone), refuses mount locations no mount may use, and checks
 * that the source config and the staging environment exist,
 * that a copy from `localhost` reads the source config's own host, and that a chosen dsourceId is free
 * (the link's undo deletes the dSource, which must be its own).
 *
 * @returns the request with its mount location normalized (`/mnt//x/` becomes `/mnt/x`)
 * @throws ValidationError naming the field at fault (`linkedSource.sourceAddress` for a local copy from another
 *   host, `policy.schedule.cron` for an invalid cron expression); NotFoundError naming `sourceConfigId` or `stagingEnvironmentId`;
 *   ConflictError naming `dsourceId` when a dSource has that id already
 */
export async function validateLink(input: unknown, { engine }: Pick<StepPorts, 'engine'>): Promise<LinkInput> {
  const link = validate<LinkInput>(linkInputSchema, input, 'input');
  // The engine checks it again when it creates the dSource; here a bad policy creates nothing.
  if (link.policy !== undefined) parseSnapshotPolicy(link.policy, 'policy');
  const mountLocation = normalize(link.linkedSource.mountLocation);
  const problem = mountLocationProblem(link.linkedSource.mountLocation);
  if (problem !== undefined) {
    throw new SnapflowError(ErrorNames.Validation, `${field} ${problem}: ${link.linkedSource.mountLocation}`, {
      field,
      action:
        'Give the staging mount a directory of its own outside the system directories, e.g. /mnt/snapflow/<name>.',
    });
  }
  const { dsourceId } = link;
  if (dsourceId !== undefined) await refuseTakenId('dsourceId', dsourceId, () => engine.getDSource(dsourceId));
  const sourceConfig = await mustExist('sourceConfigId', link.sourceConfigId, () =>
    engine.getSourceConfig(link.sourceConfigId),
  );
  const stagingEnvironment = await mustExist('stagingEnvironmentId', link.stagingEnvironmentId, () =>
    engine.getEnvironment(link.stagingEnvironmentId),
  );
  const parameters = { ...link.linkedSource, mountLocation };
  await refuseLocalCopyFromAnotherHost(engine, { parameters, sourceConfig, stagingEnvironment });
  // The plugin decides whether the copy stays on the staging host; only then can the mount cover the
  // source itself, and a copy with --delete into its own source would destroy it.
  const copy = operations.linked.preSnapshot({ parameters, stagingEnvironment, sourceConfig }, { resync: false });
  if (copy.parameters.Source?.[0] === sourceConfig.path && pathsOverlap(sourceConfig.path, mountLocation)) {
    throw new SnapflowError(
      ErrorNames.Validation,
      `${field} ${mountLocation} overlaps the source path ${sourceConfig.path} on the same host`,
      { field, action: 'Choose a staging mount location outside the source tree, and not one that contains it.' },
    );
  }
  return { ...link, linkedSource: parameters };
}
