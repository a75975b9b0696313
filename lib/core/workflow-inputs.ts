import type { FromSchema } from 'json-schema-to-ts';
import {
  linkedSourceDefinition,
  snapshotParametersDefinition,
  virtualSourceDefinition,
} from '../plugins/directory-tree/schemas';

/** Ids the engine hands out: a short kind prefix and 16 hex digits (`vdb-0123456789abcdef`). */
export const ID_PATTERN = '^[a-z]{2,4}-[0-9a-f]{16}$';

const id = { type: 'string', pattern: ID_PATTERN } as const;
const name = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } as const;

export const triggerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['api', 'event', 'schedule', 'workflow'] },
    id: { type: 'string', maxLength: 256 },
  },
} as const;

/** Input of the `link` workflow: create a dSource from a source config, then sync it. */
export const linkInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'sourceConfigId', 'stagingEnvironmentId', 'linkedSource'],
  properties: {
    name,
    sourceConfigId: id,
    stagingEnvironmentId: id,
    linkedSource: linkedSourceDefinition,
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

/** Input of the `provision` workflow: clone a snapshot and mount it on a target host. */
export const provisionInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'snapshotId', 'environmentId', 'virtualSource'],
  properties: {
    name,
    snapshotId: id,
    environmentId: id,
    virtualSource: virtualSourceDefinition,
  },
} as const;

export type Trigger = FromSchema<typeof triggerSchema>;
export type LinkInput = FromSchema<typeof linkInputSchema>;
export type SyncInput = FromSchema<typeof syncInputSchema>;
export type ProvisionInput = FromSchema<typeof provisionInputSchema>;
