import type { FromSchema } from 'json-schema-to-ts';
import { ErrorNames } from '../core/errors';
import {
  ID_PATTERN,
  idSchema as id,
  MAX_EVENT_SOURCES,
  nameSchema as name,
  unixPathSchema as unixPath,
} from '../core/field-schemas';
import { SSH_FILE_PATTERN } from '../core/paths';
import { retentionRulesSchema, snapshotPolicySchema, snapshotRetentionSchema } from '../core/snapshot-policy';
import { eventSourceSchema, triggerSchema } from '../core/workflow-inputs';
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

/**
 * EC2 instance ids (`i-` and 8 or 17 hex digits), SSM managed-instance ids of hybrid machines (`mi-` and
 * 17 hex digits), `local` for the engine's own machine, or `ssh-` and a name for a host local mode
 * reaches over SSH.
 */
export const HOST_ID_PATTERN = '^(local|i-([0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17}|ssh-[a-z0-9][a-z0-9-]{0,39})$';

/** The prefix of the host ids of SSH hosts. */
export const SSH_HOST_ID_PREFIX = 'ssh-';

/** Where environments let Snapflow make its own mount points unless told otherwise. */
export const DEFAULT_SCRATCH_PATH = '/var/tmp/snapflow';

/** An id of one kind, as a caller may choose it for an idempotent create: ID_PATTERN with its prefix. */
function idOfKind<P extends string>(prefix: P) {
  return {
    type: 'string',
    pattern: ID_PATTERN.replace('[a-z]{2,4}', prefix),
    description: `Chosen by the caller for an idempotent create: ${prefix}- and 16 hex digits; made up by the engine when absent`,
  } as const;
}
/** A caller's opaque token (a lease holder, a request token): printable, at most 1 KiB. */
const token = { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[^\\u0000-\\u001f\\u007f]+$' } as const;
const timestamp = { type: 'string', description: 'ISO 8601 time, UTC' } as const;
const count = { type: 'integer', minimum: 0 } as const;

/** Path parameters of routes addressing one record. */
export const idParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id },
} as const;

/** Query of `GET /snapshots`: all snapshots, or those of one dataset, of one timeflow, or both. */
export const listSnapshotsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { datasetId: id, timeflowId: id },
} as const;

/** Query of `GET /timeflows`: all timeflows, or those of one dataset. */
export const listTimeflowsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { datasetId: id },
} as const;

const sshFile = { type: 'string', format: 'unixpath', pattern: SSH_FILE_PATTERN, maxLength: 4095 } as const;

/** {@link SshAccess}: how local mode reaches an SSH host. */
export const sshAccessSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['address', 'user', 'identityFile', 'knownHostsFile'],
  properties: {
    address: {
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$',
      description: "The host's IP address or DNS name, as its key is listed in knownHostsFile",
    },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 22 },
    user: {
      ...linkedSourceDefinition.properties.username,
      description: 'The user host commands run as; mounting needs root',
    },
    identityFile: {
      ...sshFile,
      description: 'A private key without a passphrase, on the machine that runs local mode',
    },
    knownHostsFile: {
      ...sshFile,
      description: "The only known_hosts file consulted; it must list the host's key",
    },
  },
} as const;

/** {@link SshClientFiles}: the files a host's copies use for SSH to source hosts. */
export const sshClientFilesSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['identityFile', 'knownHostsFile'],
  properties: {
    identityFile: { ...sshFile, description: 'A private key on this host, without a passphrase' },
    knownHostsFile: { ...sshFile, description: "A known_hosts file on this host listing the source hosts' keys" },
  },
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
      description:
        'SSM managed-instance id of the host, local for the engine machine, or ssh-NAME for a host local mode reaches over SSH',
    },
    scratchPath: {
      ...unixPath,
      default: DEFAULT_SCRATCH_PATH,
      description: 'A directory on the host Snapflow may use for its own mount points (V2P exports)',
    },
    ssh: { ...sshAccessSchema, description: 'How local mode reaches the host; required for an ssh-NAME host id' },
    sshClient: {
      ...sshClientFilesSchema,
      description: "The key and known_hosts file this host's copies use to pull from source hosts over SSH",
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

/** A dataset's snapshot policy as a request gives it; the engine fills in defaults and stores the result. */
const policyInput = {
  ...snapshotPolicySchema,
  description:
    'When snapshots are taken (schedule: a 5-field cron in an IANA time zone, or null for on demand) and which ' +
    'retention keeps; a missing retention is the default (24 hourly, 7 daily), a given one replaces it whole',
} as const;

/** Events that start a sync of a dSource besides the Snapflow "Source Data Changed" event naming it. */
const eventSourcesInput = {
  type: 'array',
  maxItems: MAX_EVENT_SOURCES,
  items: eventSourceSchema,
  description: 'S3 buckets and key prefixes whose "Object Created" events start a sync; each given once',
} as const;

/** Body of `POST /dsources`; `parameters` are the plugin's linked-source parameters. */
export const createDSourceBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'sourceConfigId', 'stagingEnvironmentId', 'parameters'],
  properties: {
    id: idOfKind('ds'),
    name,
    sourceConfigId: id,
    stagingEnvironmentId: id,
    parameters: linkedSourceDefinition,
    policy: { ...policyInput, description: `${policyInput.description}. Default: no schedule, default retention` },
    eventSources: { ...eventSourcesInput, description: `${eventSourcesInput.description}. Default: none` },
  },
} as const;

/** Body of `PATCH /datasets/{id}/settings`: what is given replaces what the dSource or VDB has. */
export const updateDatasetSettingsBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    policy: { ...policyInput, description: `${policyInput.description}. Replaces the policy whole` },
    eventSources: {
      ...eventSourcesInput,
      description: `${eventSourcesInput.description}. Replaces the list whole; dSources only ([] removes all)`,
    },
  },
} as const;

/** Body of `PATCH /snapshots/{id}`: a change to one snapshot's own retention. */
export const updateSnapshotBody = {
  ...snapshotRetentionSchema,
  properties: {
    expiresAt: {
      ...snapshotRetentionSchema.properties.expiresAt,
      description:
        'UTC time (e.g. 2025-06-30T00:00:00Z) from which retention may delete the snapshot even if a rule would keep ' +
        'it, and until which it keeps it; null removes the expiry',
    },
    retainForever: {
      ...snapshotRetentionSchema.properties.retainForever,
      description: 'True: retention never deletes the snapshot; false removes the mark',
    },
  },
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
  properties: {
    provenance: provenanceSchema,
    metadata: snapshotDefinition,
    requestToken: {
      ...token,
      description:
        'Makes the call idempotent: a repeated call with the same token for the same dataset answers the snapshot the first made',
    },
  },
} as const;

/** Longest lease: a workflow run that needs longer renews it. */
export const MAX_LEASE_SECONDS = 7 * 24 * 3600;

const leaseHolder = { ...token, description: 'The workflow run holding the lease, e.g. its execution ARN' } as const;

/** Body of `POST /datasets/{id}/lease`. */
export const acquireLeaseBody = {
  type: 'object',
  additionalProperties: false,
  required: ['holder', 'ttlSeconds'],
  properties: {
    holder: leaseHolder,
    ttlSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: MAX_LEASE_SECONDS,
      description: 'How long the lease lasts unless renewed (taken again by the same holder) or released',
    },
  },
} as const;

/** Query of `DELETE /datasets/{id}/lease`. */
export const releaseLeaseQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['holder'],
  properties: { holder: leaseHolder },
} as const;

/** Body of `POST /vdbs`; `parameters` are the plugin's virtual-source parameters. */
export const createVdbBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'snapshotId', 'environmentId', 'parameters'],
  properties: {
    id: idOfKind('vdb'),
    name,
    snapshotId: id,
    environmentId: id,
    parameters: virtualSourceDefinition,
    policy: { ...policyInput, description: `${policyInput.description}. Default: no schedule, default retention` },
  },
} as const;

const vdbStatus = { type: 'string', enum: ['PROVISIONING', 'RUNNING', 'STOPPED'] } as const;

/** Body of `PATCH /vdbs/{id}`: the fields given are replaced. */
export const updateVdbBody = {
  type: 'object',
  additionalProperties: false,
  properties: { status: vdbStatus, enabled: { type: 'boolean' }, sourceConfig: sourceConfigDefinition },
} as const;

/** Body of `POST /vdbs/{id}/timeflows`: the snapshot to clone into the VDB's new current timeflow. */
export const createTimeflowBody = {
  type: 'object',
  additionalProperties: false,
  required: ['snapshotId', 'kind'],
  properties: {
    snapshotId: {
      ...id,
      description: "For refresh, a snapshot of the VDB's parent dataset; for rollback, one of its own",
    },
    kind: { type: 'string', enum: ['refresh', 'rollback'] },
  },
} as const;

/** Body of `POST /vdbs/{id}/switch-timeflow`. */
export const switchTimeflowBody = {
  type: 'object',
  additionalProperties: false,
  required: ['timeflowId'],
  properties: { timeflowId: { ...id, description: "One of the VDB's timeflows" } },
} as const;

/** Request types, derived from the schemas above. */
export type CreateEnvironmentRequest = FromSchema<
  typeof createEnvironmentBody,
  { keepDefaultedPropertiesOptional: true }
>;
export type CreateSourceConfigRequest = FromSchema<typeof createSourceConfigBody>;
export type ExportDatasetRequest = FromSchema<typeof exportDatasetBody>;
export type UpdateVdbRequest = FromSchema<typeof updateVdbBody>;
export type UpdateDatasetSettingsRequest = FromSchema<typeof updateDatasetSettingsBody>;
export type UpdateSnapshotRequest = FromSchema<typeof updateSnapshotBody>;
export type CreateTimeflowRequest = FromSchema<typeof createTimeflowBody>;
export type SwitchTimeflowRequest = FromSchema<typeof switchTimeflowBody>;
export type AcquireLeaseRequest = FromSchema<typeof acquireLeaseBody>;
export type ReleaseLeaseQuery = FromSchema<typeof releaseLeaseQuery>;
export type IdParams = FromSchema<typeof idParams>;
export type ListSnapshotsQuery = FromSchema<typeof listSnapshotsQuery>;
export type ListTimeflowsQuery = FromSchema<typeof listTimeflowsQuery>;

/** An environment as the API answers it. */
export const environmentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'hostId', 'scratchPath', 'createdAt'],
  properties: {
    id,
    name,
    hostId: createEnvironmentBody.properties.hostId,
    scratchPath: { ...unixPath, description: createEnvironmentBody.properties.scratchPath.description },
    ssh: { ...createEnvironmentBody.properties.ssh, required: [...sshAccessSchema.required, 'port'] },
    sshClient: createEnvironmentBody.properties.sshClient,
    createdAt: timestamp,
  },
} as const;

/** A source config as the API answers it. */
export const sourceConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'environmentId', 'name', 'path', 'createdAt'],
  properties: { ...createSourceConfigBody.properties, id, createdAt: timestamp },
} as const;

/** A snapshot policy as the engine stores and answers it: validated, with every default filled in. */
export const storedPolicySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['schedule', 'retention'],
  description: 'When snapshots are taken and which retention keeps, with defaults filled in',
  properties: {
    schedule: snapshotPolicySchema.properties.schedule,
    retention: {
      ...retentionRulesSchema,
      required: ['hourly', 'daily', 'weekly', 'monthly', 'yearly', 'keepAtLeast'],
    },
  },
} as const;

/** A dSource as the API answers it. */
export const dsourceSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'name',
    'sourceConfigId',
    'stagingEnvironmentId',
    'parameters',
    'currentTimeflowId',
    'policy',
    'eventSources',
    'createdAt',
  ],
  properties: {
    ...createDSourceBody.properties,
    id,
    currentTimeflowId: { ...id, description: 'The timeflow syncs copy into and snapshot' },
    policy: storedPolicySchema,
    eventSources: { ...eventSourcesInput, description: eventSourcesInput.description },
    createdAt: timestamp,
  },
} as const;

/** A snapshot as the API answers it. */
export const snapshotSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'datasetId', 'timeflowId', 'createdAt', 'metadata', 'provenance', 'path'],
  properties: {
    id,
    datasetId: { ...id, description: 'The dSource or VDB the snapshot belongs to' },
    timeflowId: { ...id, description: 'The timeflow it was taken of' },
    createdAt: timestamp,
    metadata: snapshotDefinition,
    provenance: provenanceSchema,
    path: { type: 'string', description: "Where the snapshot's tree is readable on the engine machine" },
    expiresAt: {
      ...timestamp,
      description:
        'From then on retention may delete it (unless newest, pinned or retained forever); absent: no expiry',
    },
    retainForever: { type: 'boolean', description: 'Retention never deletes it; absent when not so marked' },
  },
} as const;

/** A VDB as the API answers it. */
export const vdbSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id',
    'name',
    'parentDatasetId',
    'parentSnapshotId',
    'environmentId',
    'parameters',
    'status',
    'enabled',
    'currentTimeflowId',
    'policy',
    'createdAt',
  ],
  properties: {
    id,
    name,
    parentDatasetId: { ...id, description: 'The dSource or VDB whose snapshot the VDB was provisioned from' },
    parentSnapshotId: { ...id, description: 'The snapshot the current timeflow was cloned from' },
    environmentId: id,
    parameters: virtualSourceDefinition,
    sourceConfig: sourceConfigDefinition,
    status: vdbStatus,
    enabled: { type: 'boolean' },
    currentTimeflowId: { ...id, description: 'The timeflow that is mounted' },
    policy: storedPolicySchema,
    createdAt: timestamp,
  },
} as const;

/** A timeflow as the API answers it. */
export const timeflowSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'datasetId', 'kind', 'createdAt', 'path'],
  properties: {
    id,
    datasetId: { ...id, description: 'The dSource or VDB the timeflow belongs to' },
    kind: { type: 'string', enum: ['link', 'provision', 'refresh', 'rollback'] },
    parentSnapshotId: { ...id, description: "The snapshot it was cloned from; absent for a dSource's timeflow" },
    createdAt: timestamp,
    path: { type: 'string', description: "Where the timeflow's current tree is readable on the engine machine" },
  },
} as const;

/** What `POST /vdbs/{id}/timeflows` answers. */
export const createTimeflowResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['vdb', 'timeflow', 'previousTimeflowId'],
  properties: {
    vdb: vdbSchema,
    timeflow: timeflowSchema,
    previousTimeflowId: { ...id, description: 'The timeflow that was current before; it stays' },
  },
} as const;

/** A lease as `POST /datasets/{id}/lease` answers it. */
export const leaseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['datasetId', 'holder', 'expiresAt'],
  properties: {
    datasetId: { ...id, description: 'The dSource or VDB leased' },
    holder: leaseHolder,
    expiresAt: timestamp,
  },
} as const;

const bytes = { type: 'integer', minimum: 0 } as const;

/** Space a dataset, timeflow or snapshot takes, as `GET /space/{id}` answers it. */
export const spaceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'totalBytes', 'exclusiveBytes', 'sharedBytes', 'exact'],
  properties: {
    id,
    totalBytes: { ...bytes, description: 'Bytes of data referenced' },
    exclusiveBytes: { ...bytes, description: 'Bytes only this object references: what deleting it would free' },
    sharedBytes: { ...bytes, description: 'Bytes shared with other snapshots or clones' },
    exact: { type: 'boolean', description: 'False when the backend counts everything as exclusive (dir)' },
  },
} as const;

/** Something that stops an object from being deleted, as `GET /dependents/{id}` answers it. */
export const dependentSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'id', 'reason'],
  properties: {
    kind: { type: 'string', enum: ['sourceConfig', 'dsource', 'vdb', 'timeflow', 'snapshot'] },
    id,
    reason: { type: 'string' },
  },
} as const;

/** How a host mounts a dataset or snapshot, as the export routes answer it. */
export const exportSpecSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['datasetId', 'kind', 'source', 'readOnly'],
  properties: {
    datasetId: { ...id, description: 'The dataset (its current timeflow) or the snapshot exported' },
    kind: { type: 'string', enum: ['bind'] },
    source: { type: 'string', description: 'Path on the engine machine for the host to bind-mount' },
    readOnly: { type: 'boolean' },
  },
} as const;

/** What `GET /health` answers. */
export const healthSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'backend', 'inconsistencies', 'quarantined'],
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
    quarantined: {
      type: 'array',
      description:
        'Storage set aside at start-up because no record referred to it; not part of status. The message says how to remove it.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['kind', 'id', 'path', 'message'],
        properties: {
          kind: { type: 'string', enum: ['timeflow', 'snapshot'] },
          id: { type: 'string' },
          path: { type: 'string' },
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
