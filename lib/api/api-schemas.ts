import { putEventsEntrySchema } from '../core/event-patterns';
import { idSchema as id } from '../core/field-schemas';
import { snapshotPolicySchema, snapshotRetentionSchema } from '../core/snapshot-policy';
import {
  exportInputSchema,
  linkInputSchema,
  provisionInputSchema,
  refreshInputSchema,
  rollbackInputSchema,
  snapshotVdbInputSchema,
  vdbLifecycleInputSchema,
} from '../core/workflow-inputs';
import * as engine from '../engine/api-schemas';
import { schemas as pluginSchemas, snapshotParametersDefinition } from '../plugins/directory-tree/schemas';
import { JOB_ID_PATTERN } from './job-id';
import { snakeCase } from './json-case';

/**
 * JSON Schemas of the REST API: request bodies and queries, which both the handler (ajv) and API
 * Gateway (models) validate with, and the answers, which the OpenAPI document shows. Fields are in
 * snake_case, as in the Delphix DCT API, except inside the plugin's own schemas (`linked_source`,
 * `virtual_source`, a snapshot's `metadata`), which keep the plugin's field names. Records are answered
 * as the engine API's schemas describe them, in snake_case, with what the API adds.
 */

/** A JSON Schema object as this API writes them: closed, with named properties. */
export interface ObjectSchema {
  readonly type: 'object';
  readonly additionalProperties: false;
  readonly required?: readonly string[];
  readonly properties: Readonly<Record<string, object>>;
  readonly description?: string;
}

const timestamp = { type: 'string', description: 'ISO 8601 time, UTC' } as const;
const count = { type: 'integer', minimum: 0 } as const;

/**
 * The request body for a workflow: the workflow's input with its top-level fields in snake_case and
 * without `omit` (fields the API fills in itself, such as the id taken from the path).
 */
export function bodyFromWorkflowInput(
  input: { readonly properties: Readonly<Record<string, object>>; readonly required?: readonly string[] },
  omit: readonly string[],
  description: string,
): ObjectSchema {
  const kept = Object.entries(input.properties).filter(([field]) => !omit.includes(field));
  const required = (input.required ?? []).filter((field) => !omit.includes(field)).map(snakeCase);
  return {
    type: 'object',
    additionalProperties: false,
    ...(required.length === 0 ? {} : { required }),
    properties: Object.fromEntries(kept.map(([field, schema]) => [snakeCase(field), schema])),
    description,
  };
}

/** The plugin's schemas, which keep the plugin's field names wherever they appear. */
const PLUGIN_SCHEMAS: ReadonlySet<object> = new Set(Object.values(pluginSchemas));

/**
 * A JSON Schema with every property name, however deep, in snake_case, except inside the plugin's
 * schemas: the wire form of a core or engine schema, so the two stay one definition.
 */
function snakeCaseSchema<S extends object>(schema: S): S {
  if (PLUGIN_SCHEMAS.has(schema)) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => {
      if (key === 'properties')
        return [
          key,
          Object.fromEntries(
            Object.entries(value as Record<string, object>).map(([field, nested]) => [
              snakeCase(field),
              snakeCaseSchema(nested),
            ]),
          ),
        ];
      if (key === 'required') return [key, (value as string[]).map(snakeCase)];
      if (Array.isArray(value))
        return [
          key,
          value.map((item: unknown) => (typeof item === 'object' && item !== null ? snakeCaseSchema(item) : item)),
        ];
      return [key, typeof value === 'object' && value !== null ? snakeCaseSchema(value) : value];
    }),
  ) as S;
}

/**
 * A snapshot policy as a request gives it: `schedule` (`{cron, time_zone}`, or null for snapshots on
 * demand only) and `retention` (counts per period and `keep_at_least`). A part left out takes its
 * default: no schedule, the default retention.
 */
export const policyBody = {
  ...snakeCaseSchema(snapshotPolicySchema),
  description:
    'schedule: a 5-field cron expression read in an IANA time zone, or null for snapshots on demand only; retention: how many hourly, daily, weekly, monthly and yearly snapshots to keep, and keep_at_least newest ones. A part left out takes its default.',
} as const;

/** `schema` with some of its properties replaced, e.g. a core schema by its wire form. */
function withProperties(schema: ObjectSchema, replaced: Readonly<Record<string, object>>): ObjectSchema {
  return { ...schema, properties: { ...schema.properties, ...replaced } };
}

/** Body of `POST /environments`. */
export const createEnvironmentBody: ObjectSchema = {
  ...snakeCaseSchema(engine.createEnvironmentBody),
  description: 'A Unix host',
};

/** Body of `POST /source-configs`. */
export const createSourceConfigBody: ObjectSchema = {
  ...snakeCaseSchema(engine.createSourceConfigBody),
  description: 'A dataset on a host: the directory tree at path',
};

/** Body of `POST /dsources`: link, then sync. */
export const linkBody = withProperties(
  bodyFromWorkflowInput(
    linkInputSchema,
    ['dsourceId'],
    'Link a source config and take its first snapshot; linked_source holds the plugin parameters, policy the snapshot policy, event_sources the S3 prefixes whose new objects start a sync',
  ),
  { policy: policyBody },
);

/** Body of `POST /dsources/{id}/snapshots`: sync. */
export const syncBody: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: snapshotParametersDefinition.properties,
  description: 'Snapshot parameters; resync (default false) compares every file by checksum',
};

/** Body of `POST /vdbs/provision_by_snapshot`: exactly one of `snapshot_id` and `source_data_id`. */
export const provisionBody = withProperties(
  bodyFromWorkflowInput(
    provisionInputSchema,
    ['vdbId'],
    'Provision from snapshot_id, or from the latest snapshot of source_data_id (a dSource or VDB); virtual_source holds the plugin parameters, policy the snapshot policy',
  ),
  { policy: policyBody },
);

/** Body of `PATCH /dsources/{id}`: each field given replaces the stored one whole. */
export const dsourceSettingsBody: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { policy: policyBody, event_sources: linkInputSchema.properties.eventSources },
  description: 'policy replaces the whole snapshot policy, event_sources the whole list; give at least one',
};

/** Body of `PATCH /vdbs/{id}`. */
export const vdbSettingsBody: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { policy: policyBody },
  description: 'policy replaces the whole snapshot policy',
};

/** Body of `PATCH /snapshots/{id}`: one snapshot's own retention. */
export const snapshotRetentionBody: ObjectSchema = {
  ...snakeCaseSchema(snapshotRetentionSchema),
  description:
    'expires_at: a UTC time from which retention may delete the snapshot (null removes it); retain_forever: retention never deletes it. Give at least one',
};

/** Body of `POST /dsources/{id}/retention` and `POST /vdbs/{id}/retention`. */
export const retentionBody: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { dry_run: { type: 'boolean', description: 'Report the decisions without deleting anything' } },
  description: 'dry_run (default false) shows what retention would keep and delete, and why',
};

/** Body of `POST /vdbs/{id}/refresh_by_snapshot`. */
export const refreshBody = bodyFromWorkflowInput(
  refreshInputSchema,
  ['vdbId'],
  "A snapshot of the VDB's parent; default: the parent's latest",
);

/** Body of `POST /vdbs/{id}/rollback_by_snapshot`. */
export const rollbackBody = bodyFromWorkflowInput(rollbackInputSchema, ['vdbId'], "One of the VDB's own snapshots");

/** Body of `POST /vdbs/{id}/export`. */
export const exportBody = bodyFromWorkflowInput(
  exportInputSchema,
  ['vdbId'],
  'Copy a snapshot of the VDB (default: its latest) to target_path on a host; again to the same path copies only what changed',
);

/** Body of `POST /vdbs/{id}/snapshots`: the API records itself as the trigger. */
export const snapshotVdbBody = bodyFromWorkflowInput(
  snapshotVdbInputSchema,
  ['vdbId', 'trigger'],
  'No fields; an empty body will do',
);

/** Body of the VDB lifecycle actions (start, stop, enable, disable). */
export const vdbActionBody = bodyFromWorkflowInput(
  vdbLifecycleInputSchema,
  ['vdbId'],
  'No fields; an empty body will do',
);

/**
 * Body of `POST /events`: entries as EventBridge `PutEvents` takes them, so the same JSON can go to
 * either. It keeps PutEvents' field names rather than snake_case.
 */
export const putEventsBody: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['Entries'],
  properties: { Entries: { type: 'array', minItems: 1, maxItems: 10, items: putEventsEntrySchema } },
  description:
    'Up to 10 PutEvents entries. Source "snapflow" with DetailType "Source Data Changed" and Detail {"dsourceId": …} or {"sourceHost": …, "sourcePath": …} syncs the dSources it names; S3 "Object Created" events sync the dSources with a matching event source',
};

/** Query of `GET /snapshots` and `GET /timeflows`: all, or those of one dSource or VDB. */
export const datasetQuery: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { dataset_id: { ...id, description: 'Only those of this dSource or VDB' } },
};

/** An error answer. */
export const errorSchema: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      additionalProperties: false,
      required: ['code', 'message', 'action'],
      properties: {
        code: { type: 'string', description: 'The error name, e.g. ValidationError' },
        message: { type: 'string', description: 'What went wrong, naming the field at fault' },
        action: { type: 'string', description: 'What to do about it' },
        field: { type: 'string', description: 'The request field at fault, e.g. body.virtual_source.mountLocation' },
        output: { type: 'string', description: 'Output of the failing command' },
      },
    },
  },
};

/**
 * `schema` with the engine's `parameters` (the plugin's parameter object) under the API's name for
 * them, as in the Delphix DCT API.
 */
function withParametersAs(schema: ObjectSchema, field: 'linked_source' | 'virtual_source'): ObjectSchema {
  const rename = (name: string) => (name === 'parameters' ? field : name);
  return {
    ...schema,
    ...(schema.required === undefined ? {} : { required: schema.required.map(rename) }),
    properties: Object.fromEntries(Object.entries(schema.properties).map(([name, value]) => [rename(name), value])),
  };
}

/** An environment as the API answers it. */
export const environmentSchema: ObjectSchema = snakeCaseSchema(engine.environmentSchema);

/** A source config as the API answers it. */
export const sourceConfigSchema: ObjectSchema = snakeCaseSchema(engine.sourceConfigSchema);

/** A stored snapshot policy as the API answers it: every part present, defaults filled in. */
export const policySchema: ObjectSchema = snakeCaseSchema(engine.storedPolicySchema);

const nextSnapshotAt = {
  ...timestamp,
  description: 'When the schedule runs next, where the scheduler can tell; absent without a schedule',
} as const;

/** A dSource as the API answers it; `linked_source` holds the plugin parameters. */
export const dsourceSchema: ObjectSchema = withProperties(
  withParametersAs(snakeCaseSchema(engine.dsourceSchema), 'linked_source'),
  { next_snapshot_at: nextSnapshotAt },
);

/** A VDB as the API answers it; `virtual_source` holds the plugin parameters. */
export const vdbSchema: ObjectSchema = withProperties(
  withParametersAs(snakeCaseSchema(engine.vdbSchema), 'virtual_source'),
  { next_snapshot_at: nextSnapshotAt },
);

const engineSnapshot: ObjectSchema = snakeCaseSchema(engine.snapshotSchema);

/** A snapshot with its provenance, as the API answers it; `retain_forever` is always given. */
export const snapshotSchema: ObjectSchema = {
  ...withProperties(engineSnapshot, {
    retain_forever: { type: 'boolean', description: 'Retention never deletes it' },
  }),
  required: [...(engineSnapshot.required ?? []), 'retain_forever'],
};

/** A timeflow as the API answers it. */
export const timeflowSchema: ObjectSchema = snakeCaseSchema(engine.timeflowSchema);

/** Space of a dataset, timeflow or snapshot, as the API answers it. */
export const spaceSchema: ObjectSchema = snakeCaseSchema(engine.spaceSchema);

/** A job (one workflow execution) as `GET /jobs/{id}` answers it. */
export const jobSchema: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'workflow', 'status', 'started_at', 'steps'],
  properties: {
    id: { type: 'string', pattern: JOB_ID_PATTERN },
    workflow: { type: 'string' },
    status: { type: 'string', enum: ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] },
    target_id: { ...id, description: 'The dSource or VDB the job works on' },
    started_at: timestamp,
    ended_at: timestamp,
    steps: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'status', 'started_at'],
        properties: {
          name: { type: 'string' },
          status: { type: 'string', enum: ['RUNNING', 'SUCCEEDED', 'FAILED', 'CAUGHT', 'ABORTED'] },
          started_at: timestamp,
          ended_at: timestamp,
          duration_ms: count,
        },
      },
    },
    output: { type: 'object', description: "The workflow's output, once it succeeded" },
    error: errorSchema.properties.error as object,
  },
};

/** The 202 answer of a route that starts a workflow. */
export function jobStartedSchema(targetField: 'dsource_id' | 'vdb_id'): ObjectSchema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['job', targetField],
    properties: { job: jobSchema, [targetField]: id },
  };
}

/** The 202 answer of `POST /events`: per entry, in order, the event's id and the syncs it started. */
export const eventsAcceptedSchema: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['entries'],
  properties: {
    entries: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['event_id', 'jobs'],
        properties: {
          event_id: { type: 'string', description: "The event's id, the trigger id of the snapshots its syncs take" },
          jobs: { type: 'array', items: jobSchema, description: 'Empty when the event matches no trigger' },
        },
      },
    },
  },
};

/** A list answer. */
export function listOf(item: ObjectSchema): object {
  return { type: 'array', items: item };
}
