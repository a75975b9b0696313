import type { DSource, Environment, Snapshot, SourceConfig, Space, Timeflow, Vdb } from '../core/model';
import type { Job } from './api-ports';
import { describeJobError } from './describe-job-error';
import { snakeKeysDeep } from './json-case';
import { presentPolicy } from './policy-body';

/**
 * Records as the API answers them (the shapes in `api-schemas.ts`): snake_case fields, the plugin's
 * parameter objects under their Delphix names with the plugin's own field names. Every field is
 * listed, so that a field the engine adds is shown only once it is documented here.
 */
export const present = {
  environment: (environment: Environment) => ({
    id: environment.id,
    name: environment.name,
    host_id: environment.hostId,
    scratch_path: environment.scratchPath,
    ...(environment.ssh === undefined ? {} : { ssh: snakeKeysDeep(environment.ssh) }),
    ...(environment.sshClient === undefined ? {} : { ssh_client: snakeKeysDeep(environment.sshClient) }),
    created_at: environment.createdAt,
  }),

  sourceConfig: (sourceConfig: SourceConfig) => ({
    id: sourceConfig.id,
    environment_id: sourceConfig.environmentId,
    name: sourceConfig.name,
    path: sourceConfig.path,
    created_at: sourceConfig.createdAt,
  }),

  /** @param nextSnapshotAt When its schedule runs next, where the scheduler can tell. */
  dsource: (dsource: DSource, nextSnapshotAt?: string) => ({
    id: dsource.id,
    name: dsource.name,
    source_config_id: dsource.sourceConfigId,
    staging_environment_id: dsource.stagingEnvironmentId,
    linked_source: dsource.parameters,
    current_timeflow_id: dsource.currentTimeflowId,
    policy: presentPolicy(dsource.policy),
    event_sources: dsource.eventSources,
    ...(nextSnapshotAt === undefined ? {} : { next_snapshot_at: nextSnapshotAt }),
    created_at: dsource.createdAt,
  }),

  /** @param nextSnapshotAt As for a dSource. */
  vdb: (vdb: Vdb, nextSnapshotAt?: string) => ({
    id: vdb.id,
    name: vdb.name,
    parent_dataset_id: vdb.parentDatasetId,
    parent_snapshot_id: vdb.parentSnapshotId,
    environment_id: vdb.environmentId,
    virtual_source: vdb.parameters,
    ...(vdb.sourceConfig === undefined ? {} : { source_config: vdb.sourceConfig }),
    status: vdb.status,
    enabled: vdb.enabled,
    current_timeflow_id: vdb.currentTimeflowId,
    policy: presentPolicy(vdb.policy),
    ...(nextSnapshotAt === undefined ? {} : { next_snapshot_at: nextSnapshotAt }),
    created_at: vdb.createdAt,
  }),

  snapshot: (snapshot: Snapshot) => {
    const { provenance } = snapshot;
    return {
      id: snapshot.id,
      dataset_id: snapshot.datasetId,
      timeflow_id: snapshot.timeflowId,
      created_at: snapshot.createdAt,
      metadata: snapshot.metadata,
      provenance: {
        trigger: provenance.trigger,
        ...(provenance.filesTransferred === undefined ? {} : { files_transferred: provenance.filesTransferred }),
        ...(provenance.bytesTransferred === undefined ? {} : { bytes_transferred: provenance.bytesTransferred }),
        ...(provenance.durationMs === undefined ? {} : { duration_ms: provenance.durationMs }),
        plugin_version: provenance.pluginVersion,
        ...(provenance.snapshotParameters === undefined ? {} : { snapshot_parameters: provenance.snapshotParameters }),
      },
      path: snapshot.path,
      ...(snapshot.expiresAt === undefined ? {} : { expires_at: snapshot.expiresAt }),
      retain_forever: snapshot.retainForever === true,
    };
  },

  timeflow: (timeflow: Timeflow) => ({
    id: timeflow.id,
    dataset_id: timeflow.datasetId,
    kind: timeflow.kind,
    ...(timeflow.parentSnapshotId === undefined ? {} : { parent_snapshot_id: timeflow.parentSnapshotId }),
    created_at: timeflow.createdAt,
    path: timeflow.path,
  }),

  space: (space: Space) => ({
    id: space.id,
    total_bytes: space.totalBytes,
    exclusive_bytes: space.exclusiveBytes,
    shared_bytes: space.sharedBytes,
    exact: space.exact,
  }),

  job: (job: Job) => {
    const target = targetOf(job.input);
    return {
      id: job.id,
      workflow: job.workflow,
      status: job.status,
      ...(target === undefined ? {} : { target_id: target }),
      started_at: job.startedAt,
      ...(job.endedAt === undefined ? {} : { ended_at: job.endedAt }),
      steps: job.steps.map((step) => ({
        name: step.name,
        status: step.status,
        started_at: step.startedAt,
        ...(step.endedAt === undefined ? {} : { ended_at: step.endedAt }),
        ...(step.durationMs === undefined ? {} : { duration_ms: step.durationMs }),
      })),
      ...(job.output === undefined ? {} : { output: snakeKeysDeep(job.output) }),
      ...(job.error === undefined ? {} : { error: describeJobError(job.error) }),
    };
  },
};

/** The dSource or VDB a workflow's input names; every workflow takes one (retention as either kind). */
function targetOf(input: unknown): string | undefined {
  if (input === null || typeof input !== 'object') return undefined;
  const { dsourceId, vdbId, datasetId } = input as { dsourceId?: unknown; vdbId?: unknown; datasetId?: unknown };
  return [vdbId, dsourceId, datasetId].find((id): id is string => typeof id === 'string');
}

/** A record as the API answers it. */
export type Presented<K extends keyof typeof present> = ReturnType<(typeof present)[K]>;
