import type { FromSchema } from 'json-schema-to-ts';
import {
  linkedSourceDefinition,
  snapshotParametersDefinition,
  virtualSourceDefinition,
} from '../plugins/directory-tree/schemas';
import { idSchema as id, MAX_EVENT_SOURCES, nameSchema as name, unixPathSchema as unixPath } from './field-schemas';
import { snapshotPolicySchema } from './snapshot-policy';

export const triggerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['api', 'event', 'schedule', 'workflow'] },
    id: { type: 'string', maxLength: 256 },
  },
} as const;

/** An S3 bucket and key prefix whose "Object Created" events start a sync (bucket names per S3's rules). */
export const eventSourceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'bucket', 'prefix'],
  properties: {
    kind: { type: 'string', enum: ['s3'] },
    bucket: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' },
    prefix: { type: 'string', maxLength: 1024, pattern: '^[^\\u0000-\\u001f]*$' },
  },
} as const;

/** Input of the `link` workflow: create a dSource from a source config, then sync it. */
export const linkInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'sourceConfigId', 'stagingEnvironmentId', 'linkedSource'],
  properties: {
    /** Chosen by the caller (the API answers with it before the workflow runs); the engine makes one otherwise. */
    dsourceId: id,
    name,
    sourceConfigId: id,
    stagingEnvironmentId: id,
    linkedSource: linkedSourceDefinition,
    policy: snapshotPolicySchema,
    eventSources: { type: 'array', maxItems: MAX_EVENT_SOURCES, items: eventSourceSchema },
  },
} as const;

/** Input of the `sync` workflow: copy from the source into the dSource, then snapshot it. */
export const syncInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dsourceId', 'snapshotParameters', 'trigger'],
  properties: {
    dsourceId: id,
    snapshotParameters: snapshotParametersDefinition,
    trigger: triggerSchema,
  },
} as const;

/**
 * Input of the `provision` workflow: clone a snapshot and mount it on a target host. Exactly one of
 * `snapshotId` and `sourceDataId` (a dSource or VDB, whose latest snapshot is taken) is given.
 */
export const provisionInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'environmentId', 'virtualSource'],
  properties: {
    vdbId: id,
    name,
    snapshotId: id,
    sourceDataId: id,
    environmentId: id,
    virtualSource: virtualSourceDefinition,
    policy: snapshotPolicySchema,
  },
} as const;

const vdbOnly = {
  type: 'object',
  additionalProperties: false,
  required: ['vdbId'],
  properties: { vdbId: id },
} as const;

/** Input of `refresh`: re-provision the VDB from its parent's snapshot (default: the parent's latest). */
export const refreshInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['vdbId'],
  properties: { vdbId: id, snapshotId: id },
} as const;

/** Input of `rollback`: go back to one of the VDB's own snapshots, on a new timeflow. */
export const rollbackInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['vdbId', 'snapshotId'],
  properties: { vdbId: id, snapshotId: id },
} as const;

/** Input of `snapshot-vdb`. */
export const snapshotVdbInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['vdbId', 'trigger'],
  properties: { vdbId: id, trigger: triggerSchema },
} as const;

/**
 * Input of `export` (V2P): copy a snapshot of the VDB (default: its latest) to a physical path on a
 * host. Exporting again to the same path transfers only what changed.
 */
export const exportInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['vdbId', 'environmentId', 'targetPath'],
  properties: {
    vdbId: id,
    snapshotId: id,
    environmentId: id,
    targetPath: unixPath,
  },
} as const;

/** Inputs of `start-vdb`, `stop-vdb`, `enable-vdb`, `disable-vdb` and `delete-vdb`. */
export const vdbLifecycleInputSchema = vdbOnly;

/** Input of `delete-dsource`. */
export const deleteDSourceInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dsourceId'],
  properties: { dsourceId: id },
} as const;

/**
 * Input of `retention`: apply the dataset's policy to its snapshots (lib/core/retention.ts). A dry
 * run reports the same decisions and deletes nothing.
 */
export const retentionInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['datasetId', 'dryRun', 'trigger'],
  properties: { datasetId: id, dryRun: { type: 'boolean' }, trigger: triggerSchema },
} as const;

/** Every workflow by name (the `SnapflowWorkflow` metadata of its state machine) with its input schema. */
export const workflowInputSchemas = {
  link: linkInputSchema,
  sync: syncInputSchema,
  provision: provisionInputSchema,
  refresh: refreshInputSchema,
  rollback: rollbackInputSchema,
  'snapshot-vdb': snapshotVdbInputSchema,
  export: exportInputSchema,
  'start-vdb': vdbLifecycleInputSchema,
  'stop-vdb': vdbLifecycleInputSchema,
  'enable-vdb': vdbLifecycleInputSchema,
  'disable-vdb': vdbLifecycleInputSchema,
  'delete-vdb': vdbLifecycleInputSchema,
  'delete-dsource': deleteDSourceInputSchema,
  retention: retentionInputSchema,
} as const;

export type WorkflowName = keyof typeof workflowInputSchemas;

export type Trigger = FromSchema<typeof triggerSchema>;
export type LinkInput = FromSchema<typeof linkInputSchema>;
export type SyncInput = FromSchema<typeof syncInputSchema>;
export type ProvisionInput = FromSchema<typeof provisionInputSchema>;
export type RefreshInput = FromSchema<typeof refreshInputSchema>;
export type RollbackInput = FromSchema<typeof rollbackInputSchema>;
export type SnapshotVdbInput = FromSchema<typeof snapshotVdbInputSchema>;
export type ExportInput = FromSchema<typeof exportInputSchema>;
export type VdbLifecycleInput = FromSchema<typeof vdbLifecycleInputSchema>;
export type DeleteDSourceInput = FromSchema<typeof deleteDSourceInputSchema>;
export type RetentionInput = FromSchema<typeof retentionInputSchema>;
