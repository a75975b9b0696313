import type { FromSchema } from 'json-schema-to-ts';
import { ErrorNames } from '../core/errors';
import { ID_PATTERN, triggerSchema } from '../core/workflow-inputs';
import {
  linkedSourceDefinition,
  snapshotDefinition,
  snapshotParametersDefinition,
  sourceConfigDefinition,
  virtualSourceDefinition,
} from '../plugins/directory-tree/schemas';

/**
 * JSON Schemas of the engine API's requests and responses. The engine validates its inputs with the
 * request schemas, the HTTP server validates bodies with the same objects, and the OpenAPI document is
 * generated from them.
 */

/** SSM managed-instance and EC2 instance ids, or `local` for the engine's own machine. */
export const HOST_ID_PATTERN = '^(local|[a-z]-[0-9a-f]{8,17}|mi-[0-9a-f]{17})$';

const id = { type: 'string', pattern: ID_PATTERN } as const;
const name = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } as const;
const timestamp = { type: 'string', description: 'ISO 8601 time, UTC' } as const;
const count = { type: 'integer', minimum: 0 } as const;

/** Path parameters of routes addressing one record. */
export const idParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id },
} as const;

/** Query of `GET /snapshots`: all snapshots, or those of one dataset. */
export const listSnapshotsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { datasetId: id },
} as const;

/** Body of `POST /environments`. */
export const createEnvironmentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'hostId'],
  properties: {
    name,
    hostId: {
      type: 'string',
      pattern: HOST_ID_PATTERN,
      description: 'SSM managed-instance id of the host, or local for the engine machine',
    },
  },
} as const;

/** Body of `POST /source-configs`: a dataset on an environment. */
export const createSourceConfigBody = {
  type: 'object',
  additionalProperties: false,
  required: ['environmentId', 'name', 'path'],
  properties: {
    environmentId: id,
    name: sourceConfigDefinition.properties.name,
    path: sourceConfigDefinition.properties.path,
  },
} as const;

/** Body of `POST /dsources`; `parameters` are the plugin's linked-source parameters. */
export const createDSourceBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'sourceConfigId', 'stagingEnvironmentId', 'parameters'],
  properties: { name, sourceConfigId: id, stagingEnvironmentId: id, parameters: linkedSourceDefinition },
} as const;

/** Body of `POST /datasets/{id}/export`. */
export const exportDatasetBody = {
  type: 'object',
  additionalProperties: false,
  required: ['readOnly'],
  properties: { readOnly: { type: 'boolean' } },
} as const;

/** Where a snapshot's data came from (see `Provenance` in the core model). */
export const provenanceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['trigger', 'pluginVersion'],
  properties: {
    trigger: triggerSchema,
    filesTransferred: count,
    bytesTransferred: count,
    durationMs: count,
    pluginVersion: { type: 'string', minLength: 1, maxLength: 64 },
    snapshotParameters: snapshotParametersDefinition,
  },
} as const;

/** Body of `POST /datasets/{id}/snapshots`. */
export const snapshotDatasetBody = {
  type: 'object',
  additionalProperties: false,
  required: ['provenance', 'metadata'],
  properties: { provenance: provenanceSchema, metadata: snapshotDefinition },
} as const;

/** Body of `POST /vdbs`; `parameters` are the plugin's virtual-source parameters. */
export const createVdbBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'snapshotId', 'environmentId', 'parameters'],
  properties: { name, snapshotId: id, environmentId: id, parameters: virtualSourceDefinition },
} as const;

const vdbStatus = { type: 'string', enum: ['PROVISIONING', 'RUNNING'] } as const;

/** Body of `PATCH /vdbs/{id}`: the fields given are replaced. */
export const updateVdbBody = {
  type: 'object',
  additionalProperties: false,
  properties: { status: vdbStatus, sourceConfig: sourceConfigDefinition },
} as const;

/** Request types, derived from the schemas above. */
export type CreateEnvironmentRequest = FromSchema<typeof createEnvironmentBody>;
export type CreateSourceConfigRequest = FromSchema<typeof createSourceConfigBody>;
export type ExportDatasetRequest = FromSchema<typeof exportDatasetBody>;
export type UpdateVdbRequest = FromSchema<typeof updateVdbBody>;
export type IdParams = FromSchema<typeof idParams>;
export type ListSnapshotsQuery = FromSchema<typeof listSnapshotsQuery>;

/** An environment as the API answers it. */
export const environmentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'hostId', 'createdAt'],
  properties: { id, name, hostId: createEnvironmentBody.properties.hostId, createdAt: timestamp },
} as const;

/** A source config as the API answers it. */
export const sourceConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'environmentId', 'name', 'path', 'createdAt'],
  properties: { ...createSourceConfigBody.properties, id, createdAt: timestamp },
} as const;

/** A dSource as the API answers it. */
export const dsourceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'sourceConfigId', 'stagingEnvironmentId', 'parameters', 'createdAt'],
  properties: { ...createDSourceBody.properties, id, createdAt: timestamp },
} as const;

/** A snapshot as the API answers it. */
export const snapshotSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'datasetId', 'createdAt', 'metadata', 'provenance', 'path'],
  properties: {
    id,
    datasetId: { ...id, description: 'The dSource or VDB the snapshot belongs to' },
    createdAt: timestamp,
    metadata: snapshotDefinition,
    provenance: provenanceSchema,
    path: { type: 'string', description: "Where the snapshot's tree is readable on the engine machine" },
  },
} as const;

/** A VDB as the API answers it. */
export const vdbSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'parentSnapshotId', 'environmentId', 'parameters', 'status', 'createdAt'],
  properties: {
    id,
    name,
    parentSnapshotId: id,
    environmentId: id,
    parameters: virtualSourceDefinition,
    sourceConfig: sourceConfigDefinition,
    status: vdbStatus,
    createdAt: timestamp,
  },
} as const;

/** How a host mounts a dataset, as `POST /datasets/{id}/export` answers it. */
export const exportSpecSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['datasetId', 'kind', 'source', 'readOnly'],
  properties: {
    datasetId: id,
    kind: { type: 'string', enum: ['bind'] },
    source: { type: 'string', description: 'Path on the engine machine for the host to bind-mount' },
    readOnly: { type: 'boolean' },
  },
} as const;

/** What `GET /health` answers. */
export const healthSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'backend', 'inconsistencies'],
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    backend: {
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'reason'],
      properties: { kind: { type: 'string', enum: ['btrfs', 'dir'] }, reason: { type: 'string' } },
    },
    inconsistencies: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'id', 'message'],
        properties: {
          kind: { type: 'string', enum: ['missing-storage', 'orphan-storage', 'dangling-reference'] },
          id: { type: 'string' },
          message: { type: 'string' },
        },
      },
    },
  },
} as const;

/** Every error answer: `SnapflowError.toJSON()`. */
export const errorSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message', 'action'],
      properties: {
        code: { type: 'string', enum: Object.values(ErrorNames) },
        message: { type: 'string' },
        action: { type: 'string', description: 'What the caller can do about it' },
        field: { type: 'string', description: 'The request field at fault, as a dotted path' },
        output: { type: 'string', description: 'Output of the failing command' },
      },
    },
  },
} as const;
