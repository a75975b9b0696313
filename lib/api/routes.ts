import { ErrorNames, SnapflowError } from '../core/errors';
import type { EventSource } from '../core/model';
import type { EngineApi } from '../core/ports';
import type { SnapshotPolicy } from '../core/snapshot-policy';
import type { WorkflowName } from '../core/workflow-inputs';
import {
  createEnvironmentBody,
  createSourceConfigBody,
  datasetQuery,
  dsourceSchema,
  dsourceSettingsBody,
  environmentSchema,
  eventsAcceptedSchema,
  exportBody,
  jobSchema,
  jobStartedSchema,
  linkBody,
  listOf,
  type ObjectSchema,
  provisionBody,
  putEventsBody,
  refreshBody,
  retentionBody,
  rollbackBody,
  snapshotRetentionBody,
  snapshotSchema,
  snapshotVdbBody,
  sourceConfigSchema,
  spaceSchema,
  syncBody,
  timeflowSchema,
  vdbActionBody,
  vdbSchema,
  vdbSettingsBody,
} from './api-schemas';
import { camelKeys, camelKeysDeep } from './json-case';
import { datasetSettingsFromBody, policyFromBody, snapshotRetentionFromBody } from './policy-body';
import { present } from './present';

/**
 * The REST API, once: every route with its method, path, schemas and what it does. The local API
 * server registers these routes, the CDK construct builds the API Gateway resources, methods and
 * models from them, the OpenAPI document and the CLI's client are generated from them, and
 * `handleRequest` carries them out. Shaped after the Delphix DCT v3 API: snake_case JSON, and
 * mutating routes answer 202 with a job, which is one workflow execution.
 */

/** The methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** The kinds of record a path's `{id}` can name. */
export type RecordKind = 'environment' | 'sourceConfig' | 'dsource' | 'vdb' | 'snapshot' | 'timeflow';

/** A request after validation: path parameters, query and body as the route's schemas allow. */
export interface ApiRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: Readonly<Record<string, unknown>>;
}

/** What every route has. */
interface RouteBase {
  /** Unique, camelCase; also the CLI client's name for the route. */
  readonly operationId: string;
  readonly method: HttpMethod;
  /** With `{id}` for the one path parameter any route has. */
  readonly path: string;
  /** Groups routes in the OpenAPI document. */
  readonly tag: string;
  readonly summary: string;
  /** Request body; routes without one take none. */
  readonly body?: ObjectSchema;
  readonly query?: ObjectSchema;
  /** The schema of a successful answer. */
  readonly response?: object;
  /** The path's `{id}` must name an existing record of this kind, else 404 before anything runs. */
  readonly expects?: RecordKind;
  /**
   * Answer 409 at once when something depends on the path's `{id}`, rather than fail the job later; the
   * route names the record's kind in `expects`.
   */
  readonly refuseDependents?: boolean;
}

/** A route the engine answers by itself. */
export interface EngineRoute extends RouteBase {
  readonly kind: 'engine';
  readonly status: 200 | 201 | 204;
  readonly call: EngineCall;
}

/** A route that starts a workflow and answers 202 with the job. */
export interface WorkflowRoute extends RouteBase {
  readonly kind: 'workflow';
  readonly status: 202;
  readonly workflow: WorkflowName;
  /**
   * The dSource or VDB the workflow works on: the path's `{id}`, or for a new one an id the API
   * chooses up front, so that the caller learns it at once.
   */
  readonly target: { readonly kind: 'dsource' | 'vdb'; readonly created: boolean };
  /** The workflow's input. @throws ValidationError for what the body schema cannot say */
  readonly input: (request: ApiRequest, ids: { jobId: string; targetId: string }) => Record<string, unknown>;
}

/** `GET /jobs/{id}`. */
export interface JobRoute extends RouteBase {
  readonly kind: 'job';
  readonly status: 200;
}

/**
 * `GET` or `PATCH` of one dSource or VDB, answered with when its schedule runs next. A PATCH stores the
 * settings in the engine, then has the schedules follow the stored policy.
 */
export interface DatasetRoute extends RouteBase {
  readonly kind: 'dataset';
  readonly status: 200;
  readonly dataset: 'dsource' | 'vdb';
  /** The settings a PATCH changes, in the engine's terms; absent for a GET. @throws ValidationError */
  readonly settings?: (request: ApiRequest) => { policy?: SnapshotPolicy; eventSources?: EventSource[] };
}

/**
 * `POST /events`: PutEvents entries, matched by the same patterns as Snapflow's EventBridge rules;
 * each sync an event asks for is started, and the answer lists them per entry.
 */
export interface EventsRoute extends RouteBase {
  readonly kind: 'events';
  readonly status: 202;
}

/** A route of the API. */
export type Route = EngineRoute | WorkflowRoute | DatasetRoute | EventsRoute | JobRoute;

/** What an answer may show besides the engine's result. */
export interface AnswerContext {
  /** When a dSource's or VDB's snapshot schedule runs next, where the scheduler can tell. */
  nextSnapshotAt(datasetId: string): string | undefined;
}

/** One engine method call: its arguments from the request, and how its result is answered. */
export interface EngineCall {
  readonly method: keyof EngineApi;
  readonly args: (request: ApiRequest) => readonly unknown[];
  /** Turns the result into the answer's body; absent for 204 routes. */
  readonly present?: (result: never, context: AnswerContext) => unknown;
}

function engineCall<M extends keyof EngineApi>(
  method: M,
  args: (request: ApiRequest) => Parameters<EngineApi[M]>,
  answer?: (result: Awaited<ReturnType<EngineApi[M]>>, context: AnswerContext) => unknown,
): EngineCall {
  return { method, args, ...(answer === undefined ? {} : { present: answer }) };
}

/** The engine method that reads one record of each kind. */
export const recordGetters = {
  environment: 'getEnvironment',
  sourceConfig: 'getSourceConfig',
  dsource: 'getDSource',
  vdb: 'getVdb',
  snapshot: 'getSnapshot',
  timeflow: 'getTimeflow',
} as const satisfies Record<RecordKind, keyof EngineApi>;

const byId = (request: ApiRequest) => [request.params.id as string] as [string];
const datasetFilter = (request: ApiRequest) =>
  [request.query.dataset_id === undefined ? {} : { datasetId: request.query.dataset_id }] as [{ datasetId?: string }];
const apiTrigger = (jobId: string) => ({ kind: 'api', id: jobId });
const vdbOnly = (_request: ApiRequest, { targetId }: { targetId: string }) => ({ vdbId: targetId });
/** The body's snake_case policy in the workflow's terms, checked now so that a bad one fails before a job starts. */
const policyInput = (body: ApiRequest['body']) =>
  body.policy === undefined ? {} : { policy: policyFromBody(body.policy, 'body.policy') };

function spaceRoute<const O extends string>(
  plural: string,
  kind: RecordKind,
  label: string,
  operationId: O,
): EngineRoute & { operationId: O } {
  return {
    kind: 'engine',
    operationId,
    method: 'GET',
    path: `/${plural}/{id}/space`,
    tag: plural,
    summary: `Space a ${label} takes: total, exclusive (freed by deleting it) and shared bytes`,
    status: 200,
    expects: kind,
    response: spaceSchema,
    call: engineCall('getSpace', byId, present.space),
  };
}

function retentionRoute<const O extends string>(
  kind: 'dsource' | 'vdb',
  plural: string,
  label: string,
  operationId: O,
): WorkflowRoute & { operationId: O } {
  return {
    kind: 'workflow',
    operationId,
    method: 'POST',
    path: `/${plural}/{id}/retention`,
    tag: plural,
    summary: `Apply a ${label}'s retention policy to its snapshots, reporting what it kept and deleted and why; dry_run deletes nothing (workflow retention)`,
    status: 202,
    body: retentionBody,
    response: jobStartedSchema(`${kind}_id`),
    expects: kind,
    workflow: 'retention',
    target: { kind, created: false },
    input: ({ body }, { jobId, targetId }) => ({
      datasetId: targetId,
      dryRun: body.dry_run === true,
      trigger: apiTrigger(jobId),
    }),
  };
}

function vdbAction<const A extends 'start' | 'stop' | 'enable' | 'disable'>(
  action: A,
  workflow: WorkflowName,
  summary: string,
): WorkflowRoute & { operationId: `${A}Vdb` } {
  return {
    kind: 'workflow',
    operationId: `${action}Vdb` as const,
    method: 'POST',
    path: `/vdbs/{id}/${action}`,
    tag: 'vdbs',
    summary,
    status: 202,
    body: vdbActionBody,
    response: jobStartedSchema('vdb_id'),
    expects: 'vdb',
    workflow,
    target: { kind: 'vdb', created: false },
    input: vdbOnly,
  };
}

/** Every route of the API. */
export const routes = [
  {
    kind: 'engine',
    operationId: 'createEnvironment',
    method: 'POST',
    path: '/environments',
    tag: 'environments',
    summary: 'Register a Unix host',
    status: 201,
    body: createEnvironmentBody,
    response: environmentSchema,
    call: engineCall(
      'createEnvironment',
      ({ body }) => [camelKeysDeep(body) as Parameters<EngineApi['createEnvironment']>[0]],
      present.environment,
    ),
  },
  {
    kind: 'engine',
    operationId: 'listEnvironments',
    method: 'GET',
    path: '/environments',
    tag: 'environments',
    summary: 'List environments',
    status: 200,
    response: listOf(environmentSchema),
    call: engineCall(
      'listEnvironments',
      () => [],
      (list) => list.map(present.environment),
    ),
  },
  {
    kind: 'engine',
    operationId: 'getEnvironment',
    method: 'GET',
    path: '/environments/{id}',
    tag: 'environments',
    summary: 'Show an environment',
    status: 200,
    response: environmentSchema,
    call: engineCall('getEnvironment', byId, present.environment),
  },
  {
    kind: 'engine',
    operationId: 'deleteEnvironment',
    method: 'DELETE',
    path: '/environments/{id}',
    tag: 'environments',
    summary: 'Forget an environment; refused while source configs, dSources or VDBs use it',
    status: 204,
    expects: 'environment',
    refuseDependents: true,
    call: engineCall('deleteEnvironment', byId),
  },
  {
    kind: 'engine',
    operationId: 'createSourceConfig',
    method: 'POST',
    path: '/source-configs',
    tag: 'source-configs',
    summary: 'Register a directory tree on an environment',
    status: 201,
    body: createSourceConfigBody,
    response: sourceConfigSchema,
    call: engineCall(
      'createSourceConfig',
      ({ body }) => [camelKeys(body) as Parameters<EngineApi['createSourceConfig']>[0]],
      present.sourceConfig,
    ),
  },
  {
    kind: 'engine',
    operationId: 'listSourceConfigs',
    method: 'GET',
    path: '/source-configs',
    tag: 'source-configs',
    summary: 'List source configs',
    status: 200,
    response: listOf(sourceConfigSchema),
    call: engineCall(
      'listSourceConfigs',
      () => [],
      (list) => list.map(present.sourceConfig),
    ),
  },
  {
    kind: 'engine',
    operationId: 'deleteSourceConfig',
    method: 'DELETE',
    path: '/source-configs/{id}',
    tag: 'source-configs',
    summary: 'Forget a source config; refused while dSources use it',
    status: 204,
    expects: 'sourceConfig',
    refuseDependents: true,
    call: engineCall('deleteSourceConfig', byId),
  },
  {
    kind: 'workflow',
    operationId: 'linkDSource',
    method: 'POST',
    path: '/dsources',
    tag: 'dsources',
    summary: 'Link a source config as a new dSource and take its first snapshot (workflow link)',
    status: 202,
    body: linkBody,
    response: jobStartedSchema('dsource_id'),
    workflow: 'link',
    target: { kind: 'dsource', created: true },
    input: ({ body }, { targetId }) => ({ ...camelKeys(body), ...policyInput(body), dsourceId: targetId }),
  },
  {
    kind: 'engine',
    operationId: 'listDSources',
    method: 'GET',
    path: '/dsources',
    tag: 'dsources',
    summary: 'List dSources, each with when its schedule runs next',
    status: 200,
    response: listOf(dsourceSchema),
    call: engineCall(
      'listDSources',
      () => [],
      (list, { nextSnapshotAt }) => list.map((dsource) => present.dsource(dsource, nextSnapshotAt(dsource.id))),
    ),
  },
  {
    kind: 'dataset',
    operationId: 'getDSource',
    method: 'GET',
    path: '/dsources/{id}',
    tag: 'dsources',
    summary: 'Show a dSource with its snapshot policy and when its schedule runs next',
    status: 200,
    response: dsourceSchema,
    dataset: 'dsource',
  },
  {
    kind: 'dataset',
    operationId: 'updateDSource',
    method: 'PATCH',
    path: '/dsources/{id}',
    tag: 'dsources',
    summary: "Replace a dSource's snapshot policy or event sources; its schedule follows at once",
    status: 200,
    body: dsourceSettingsBody,
    response: dsourceSchema,
    expects: 'dsource',
    dataset: 'dsource',
    settings: ({ body }) => datasetSettingsFromBody(body),
  },
  {
    kind: 'workflow',
    operationId: 'syncDSource',
    method: 'POST',
    path: '/dsources/{id}/snapshots',
    tag: 'dsources',
    summary: 'Sync a dSource from its source and snapshot it (workflow sync)',
    status: 202,
    body: syncBody,
    response: jobStartedSchema('dsource_id'),
    expects: 'dsource',
    workflow: 'sync',
    target: { kind: 'dsource', created: false },
    input: ({ body }, { jobId, targetId }) => ({
      dsourceId: targetId,
      snapshotParameters: { resync: body.resync === true },
      trigger: apiTrigger(jobId),
    }),
  },
  {
    kind: 'workflow',
    operationId: 'deleteDSource',
    method: 'DELETE',
    path: '/dsources/{id}',
    tag: 'dsources',
    summary: 'Delete a dSource with its timeflows and snapshots; refused while VDBs use them (workflow delete-dsource)',
    status: 202,
    response: jobStartedSchema('dsource_id'),
    expects: 'dsource',
    refuseDependents: true,
    workflow: 'delete-dsource',
    target: { kind: 'dsource', created: false },
    input: (_request, { targetId }) => ({ dsourceId: targetId }),
  },
  retentionRoute('dsource', 'dsources', 'dSource', 'applyDSourceRetention'),
  spaceRoute('dsources', 'dsource', 'dSource', 'getDSourceSpace'),
  {
    kind: 'workflow',
    operationId: 'provisionVdbBySnapshot',
    method: 'POST',
    path: '/vdbs/provision_by_snapshot',
    tag: 'vdbs',
    summary: 'Provision a VDB from a snapshot, or from the latest snapshot of a dSource or VDB (workflow provision)',
    status: 202,
    body: provisionBody,
    response: jobStartedSchema('vdb_id'),
    workflow: 'provision',
    target: { kind: 'vdb', created: true },
    input: ({ body }, { targetId }) => {
      if ((body.snapshot_id === undefined) === (body.source_data_id === undefined)) {
        throw new SnapflowError(
          ErrorNames.Validation,
          body.snapshot_id === undefined
            ? 'body.snapshot_id is missing: give a snapshot or a source to take the latest snapshot of'
            : 'body.snapshot_id and body.source_data_id are both given',
          {
            action: 'Give exactly one of snapshot_id and source_data_id (a dSource or VDB).',
            field: 'body.snapshot_id',
          },
        );
      }
      return { ...camelKeys(body), ...policyInput(body), vdbId: targetId };
    },
  },
  {
    kind: 'engine',
    operationId: 'listVdbs',
    method: 'GET',
    path: '/vdbs',
    tag: 'vdbs',
    summary: 'List VDBs, each with when its schedule runs next',
    status: 200,
    response: listOf(vdbSchema),
    call: engineCall(
      'listVdbs',
      () => [],
      (list, { nextSnapshotAt }) => list.map((vdb) => present.vdb(vdb, nextSnapshotAt(vdb.id))),
    ),
  },
  {
    kind: 'dataset',
    operationId: 'getVdb',
    method: 'GET',
    path: '/vdbs/{id}',
    tag: 'vdbs',
    summary: 'Show a VDB with its snapshot policy and when its schedule runs next',
    status: 200,
    response: vdbSchema,
    dataset: 'vdb',
  },
  {
    kind: 'dataset',
    operationId: 'updateVdb',
    method: 'PATCH',
    path: '/vdbs/{id}',
    tag: 'vdbs',
    summary: "Replace a VDB's snapshot policy; its schedule follows at once",
    status: 200,
    body: vdbSettingsBody,
    response: vdbSchema,
    expects: 'vdb',
    dataset: 'vdb',
    settings: ({ body }) => datasetSettingsFromBody(body),
  },
  {
    kind: 'workflow',
    operationId: 'refreshVdbBySnapshot',
    method: 'POST',
    path: '/vdbs/{id}/refresh_by_snapshot',
    tag: 'vdbs',
    summary: "Refresh a VDB from a snapshot of its parent, by default the parent's latest (workflow refresh)",
    status: 202,
    body: refreshBody,
    response: jobStartedSchema('vdb_id'),
    expects: 'vdb',
    workflow: 'refresh',
    target: { kind: 'vdb', created: false },
    input: ({ body }, { targetId }) => ({ ...camelKeys(body), vdbId: targetId }),
  },
  {
    kind: 'workflow',
    operationId: 'rollbackVdbBySnapshot',
    method: 'POST',
    path: '/vdbs/{id}/rollback_by_snapshot',
    tag: 'vdbs',
    summary: 'Roll a VDB back to one of its own snapshots, on a new timeflow (workflow rollback)',
    status: 202,
    body: rollbackBody,
    response: jobStartedSchema('vdb_id'),
    expects: 'vdb',
    workflow: 'rollback',
    target: { kind: 'vdb', created: false },
    input: ({ body }, { targetId }) => ({ ...camelKeys(body), vdbId: targetId }),
  },
  {
    kind: 'workflow',
    operationId: 'snapshotVdb',
    method: 'POST',
    path: '/vdbs/{id}/snapshots',
    tag: 'vdbs',
    summary: 'Snapshot a VDB as it is now (workflow snapshot-vdb)',
    status: 202,
    body: snapshotVdbBody,
    response: jobStartedSchema('vdb_id'),
    expects: 'vdb',
    workflow: 'snapshot-vdb',
    target: { kind: 'vdb', created: false },
    input: (_request, { jobId, targetId }) => ({ vdbId: targetId, trigger: apiTrigger(jobId) }),
  },
  {
    kind: 'workflow',
    operationId: 'exportVdb',
    method: 'POST',
    path: '/vdbs/{id}/export',
    tag: 'vdbs',
    summary: 'Copy a snapshot of a VDB to a physical path on a host, V2P (workflow export)',
    status: 202,
    body: exportBody,
    response: jobStartedSchema('vdb_id'),
    expects: 'vdb',
    workflow: 'export',
    target: { kind: 'vdb', created: false },
    input: ({ body }, { targetId }) => ({ ...camelKeys(body), vdbId: targetId }),
  },
  vdbAction('start', 'start-vdb', 'Mount a stopped VDB again (workflow start-vdb)'),
  vdbAction('stop', 'stop-vdb', 'Unmount a VDB, keeping its data (workflow stop-vdb)'),
  vdbAction('enable', 'enable-vdb', 'Enable a disabled VDB: mount and configure it (workflow enable-vdb)'),
  vdbAction(
    'disable',
    'disable-vdb',
    'Unconfigure and unmount a VDB; start and stop refuse it until enabled (workflow disable-vdb)',
  ),
  {
    kind: 'workflow',
    operationId: 'deleteVdb',
    method: 'DELETE',
    path: '/vdbs/{id}',
    tag: 'vdbs',
    summary:
      'Unmount and delete a VDB with its timeflows and snapshots; refused while VDBs were provisioned from it (workflow delete-vdb)',
    status: 202,
    response: jobStartedSchema('vdb_id'),
    expects: 'vdb',
    refuseDependents: true,
    workflow: 'delete-vdb',
    target: { kind: 'vdb', created: false },
    input: (_request, { targetId }) => ({ vdbId: targetId }),
  },
  retentionRoute('vdb', 'vdbs', 'VDB', 'applyVdbRetention'),
  spaceRoute('vdbs', 'vdb', 'VDB', 'getVdbSpace'),
  {
    kind: 'engine',
    operationId: 'listSnapshots',
    method: 'GET',
    path: '/snapshots',
    tag: 'snapshots',
    summary: 'List snapshots, oldest first: all, or those of one dSource or VDB',
    status: 200,
    query: datasetQuery,
    response: listOf(snapshotSchema),
    call: engineCall('listSnapshots', datasetFilter, (list) => list.map(present.snapshot)),
  },
  {
    kind: 'engine',
    operationId: 'getSnapshot',
    method: 'GET',
    path: '/snapshots/{id}',
    tag: 'snapshots',
    summary: 'Show a snapshot with its provenance',
    status: 200,
    response: snapshotSchema,
    call: engineCall('getSnapshot', byId, present.snapshot),
  },
  {
    kind: 'engine',
    operationId: 'updateSnapshot',
    method: 'PATCH',
    path: '/snapshots/{id}',
    tag: 'snapshots',
    summary: "Set or clear a snapshot's expiry, or mark it to be retained forever",
    status: 200,
    body: snapshotRetentionBody,
    response: snapshotSchema,
    call: engineCall(
      'updateSnapshot',
      (request) => [request.params.id as string, snapshotRetentionFromBody(request.body)],
      present.snapshot,
    ),
  },
  spaceRoute('snapshots', 'snapshot', 'snapshot', 'getSnapshotSpace'),
  {
    kind: 'engine',
    operationId: 'listTimeflows',
    method: 'GET',
    path: '/timeflows',
    tag: 'timeflows',
    summary: 'List timeflows, oldest first: all, or those of one dSource or VDB',
    status: 200,
    query: datasetQuery,
    response: listOf(timeflowSchema),
    call: engineCall('listTimeflows', datasetFilter, (list) => list.map(present.timeflow)),
  },
  {
    kind: 'engine',
    operationId: 'deleteTimeflow',
    method: 'DELETE',
    path: '/timeflows/{id}',
    tag: 'timeflows',
    summary:
      "Delete a VDB's earlier timeflow and its snapshots; refused for the current one and while VDBs use its snapshots",
    status: 204,
    expects: 'timeflow',
    refuseDependents: true,
    call: engineCall('deleteTimeflow', byId),
  },
  spaceRoute('timeflows', 'timeflow', 'timeflow', 'getTimeflowSpace'),
  {
    kind: 'events',
    operationId: 'putEvents',
    method: 'POST',
    path: '/events',
    tag: 'events',
    summary:
      'Put events as EventBridge PutEvents does; those matching a trigger start syncs (of the dSources they name)',
    status: 202,
    body: putEventsBody,
    response: eventsAcceptedSchema,
  },
  {
    kind: 'job',
    operationId: 'getJob',
    method: 'GET',
    path: '/jobs/{id}',
    tag: 'jobs',
    summary: 'Show a job: status, steps with timings, output or error',
    status: 200,
    response: jobSchema,
  },
] as const satisfies readonly Route[];

/** The name of a route, e.g. `provisionVdbBySnapshot`. */
export type OperationId = (typeof routes)[number]['operationId'];

const allRoutes: readonly Route[] = routes;

/** The route for a method and a path template such as `/vdbs/{id}` (API Gateway's `resource`). */
export function findRoute(method: string, path: string): Route | undefined {
  return allRoutes.find((route) => route.method === method && route.path === path);
}

/** The route named `operationId`. */
export function routeByOperation(operationId: OperationId): Route {
  return allRoutes.find((route) => route.operationId === operationId) as Route;
}
