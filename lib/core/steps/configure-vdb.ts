import { operations } from '../../plugins/directory-tree/operations';
import { pluginConfig } from '../../plugins/directory-tree/plugin-config';
import type { SourceConfigDefinition } from '../../plugins/directory-tree/schemas';
import type { StepPorts } from './step-ports';

/** The VDB to configure, and the execution that provisions it (recorded as the snapshot's trigger). */
export interface ConfigureVdbInput {
  vdbId: string;
  executionId?: string;
}

/** The running VDB, its first snapshot and the source config the plugin gave it. */
export interface ConfiguredVdb {
  vdbId: string;
  snapshotId: string;
  sourceConfig: SourceConfigDefinition;
}

/**
 * Last step of provisioning, once the VDB is mounted: runs the plugin's `virtual.configure`, records
 * the source config and marks the VDB RUNNING, then takes its first snapshot so it can be rewound to
 * the state it was provisioned in.
 */
export async function configureVdb(
  input: ConfigureVdbInput,
  { engine }: Pick<StepPorts, 'engine'>,
): Promise<ConfiguredVdb> {
  const vdb = await engine.getVdb(input.vdbId);
  const environment = await engine.getEnvironment(vdb.environmentId);
  const sourceConfig = operations.virtual.configure({ parameters: vdb.parameters, environment });
  await engine.updateVdb(vdb.id, { sourceConfig, status: 'RUNNING' });
  const trigger = { kind: 'workflow' as const, ...(input.executionId === undefined ? {} : { id: input.executionId }) };
  const snapshot = await engine.snapshotDataset(vdb.id, {
    provenance: { trigger, pluginVersion: pluginConfig.externalVersion },
    metadata: operations.virtual.postSnapshot(),
  });
  return { vdbId: vdb.id, snapshotId: snapshot.id, sourceConfig };
}
