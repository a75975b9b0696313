import { ErrorNames, HttpStatusByError, isSnapflowError, SnapflowError } from '../core/errors';
import type { PutEventsEntry } from '../core/event-patterns';
import { newId, randomHex } from '../core/ids';
import type { DSource, Vdb } from '../core/model';
import type { EngineApi } from '../core/ports';
import { refuseDependents } from '../core/steps/refuse-dependents';
import { validate } from '../core/validate';
import { workflowInputSchemas } from '../core/workflow-inputs';
import type { ApiPorts } from './api-ports';
import type { ObjectSchema } from './api-schemas';
import { dispatchEntries } from './dispatch-entries';
import { jobId } from './job-id';
import { present } from './present';
import {
  type AnswerContext,
  type ApiRequest,
  type DatasetRoute,
  type RecordKind,
  type Route,
  recordGetters,
  type WorkflowRoute,
} from './routes';

/** Largest request body accepted, in bytes; API requests are a few small fields. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** A request as it arrives, before validation. */
export interface IncomingRequest {
  route: Route;
  params: Readonly<Record<string, string | undefined>>;
  query: Readonly<Record<string, string | undefined>>;
  /** The body as sent; undefined or empty when there is none. */
  body: string | undefined;
}

/** The answer: a status and a JSON body (none for 204). */
export interface ApiResponse {
  statusCode: number;
  body?: unknown;
}

/** Options of {@link handleRequest}. */
export interface HandleRequestOptions {
  /**
   * Told about errors that are not Snapflow's own (bugs, SDK failures), which are answered as a
   * StorageError without details.
   * @default ignores them
   */
  logUnexpected?: (error: unknown) => void;
}

/** How messages name a record of each kind. */
const RECORD_LABELS: Readonly<Record<RecordKind, string>> = {
  environment: 'environment',
  sourceConfig: 'source config',
  dsource: 'dSource',
  vdb: 'VDB',
  snapshot: 'snapshot',
  timeflow: 'timeflow',
};

const noQuery: ObjectSchema = { type: 'object', additionalProperties: false, properties: {} };

/**
 * Carries out one API request: validates its query and body against the route's schemas, checks the
 * record its path names (existence, dependents), then calls the engine or starts the route's
 * workflow, and answers with the route's status and body. Every failure is answered as
 * `{error: {code, message, action}}` with the status `HttpStatusByError` gives; nothing throws. The
 * local server and the API Gateway Lambda both call this, so the two behave alike.
 */
export async function handleRequest(
  request: IncomingRequest,
  ports: ApiPorts,
  options: HandleRequestOptions = {},
): Promise<ApiResponse> {
  try {
    return await carryOut(request, ports);
  } catch (error) {
    return errorResponse(error, options.logUnexpected);
  }
}

/** The answer for an error: its own status and body for a SnapflowError, a bare 500 otherwise. */
export function errorResponse(error: unknown, logUnexpected?: (error: unknown) => void): ApiResponse {
  if (isSnapflowError(error)) {
    // An error from another realm or a JSON round trip has the name and fields but not the class.
    const { name, message, action, field, output } = error;
    const answer = new SnapflowError(name, message, {
      action: action ?? 'See the API log.',
      ...(field === undefined ? {} : { field }),
      ...(output === undefined ? {} : { output }),
    });
    return { statusCode: HttpStatusByError[name], body: answer.toJSON() };
  }
  logUnexpected?.(error);
  const unexpected = new SnapflowError(ErrorNames.Storage, 'the API failed unexpectedly', {
    action: 'See the API log for the cause, then try again.',
  });
  return { statusCode: 500, body: unexpected.toJSON() };
}

async function carryOut(incoming: IncomingRequest, ports: ApiPorts): Promise<ApiResponse> {
  const { route } = incoming;
  const request: ApiRequest = {
    params: defined(incoming.params),
    query: validate(route.query ?? noQuery, defined(incoming.query), 'query'),
    body: parseBody(route, incoming.body),
  };
  const id = request.params.id;
  if (route.expects !== undefined && id !== undefined) await expectRecord(ports.engine, route.expects, id);
  if (route.refuseDependents === true && route.expects !== undefined && id !== undefined)
    await refuseDependents(ports.engine, RECORD_LABELS[route.expects], id, 'path.id');

  switch (route.kind) {
    case 'engine': {
      const method = ports.engine[route.call.method] as (...args: unknown[]) => Promise<unknown>;
      const result = await method.apply(ports.engine, [...route.call.args(request)]);
      const answer = route.call.present as ((result: unknown, context: AnswerContext) => unknown) | undefined;
      if (route.status === 204) return { statusCode: 204 };
      return { statusCode: route.status, body: answer?.(result, answerContext(ports)) };
    }
    case 'workflow':
      return startWorkflow(route, request, ports);
    case 'dataset':
      return { statusCode: 200, body: await datasetAnswer(route, request, ports) };
    case 'events': {
      const entries = request.body.Entries as PutEventsEntry[];
      const dispatched = await dispatchEntries(entries, ports, 'body.Entries');
      return {
        statusCode: 202,
        body: {
          entries: dispatched.map(({ event, jobs }) => ({ event_id: event.id, jobs: jobs.map(present.job) })),
        },
      };
    }
    case 'job':
      return { statusCode: 200, body: present.job(await ports.jobs.get(request.params.id as string)) };
  }
}

async function startWorkflow(route: WorkflowRoute, request: ApiRequest, ports: ApiPorts): Promise<ApiResponse> {
  const job = jobId(route.workflow, randomHex());
  const targetId = route.target.created ? newId(route.target.kind) : (request.params.id as string);
  // The body was valid; this catches a route mapping that drifted from the workflow's input schema.
  const input = validate(workflowInputSchemas[route.workflow], route.input(request, { jobId: job, targetId }), 'input');
  const started = await ports.workflows.start(route.workflow, input, job);
  return { statusCode: 202, body: { job: present.job(started), [`${route.target.kind}_id`]: targetId } };
}

/**
 * Reads a dSource or VDB, or changes its settings and then applies its schedule. Should applying fail,
 * the settings are stored all the same and the error is answered; sending the PATCH again applies them.
 */
async function datasetAnswer(route: DatasetRoute, request: ApiRequest, ports: ApiPorts): Promise<unknown> {
  const id = request.params.id as string;
  let dataset: DSource | Vdb;
  if (route.settings === undefined) {
    dataset = await ports.engine[recordGetters[route.dataset]](id);
  } else {
    dataset = await ports.engine.updateDatasetSettings(id, route.settings(request));
    await ports.schedules.apply({ id, kind: route.dataset, policy: dataset.policy });
  }
  const nextSnapshotAt = answerContext(ports).nextSnapshotAt(id);
  return route.dataset === 'dsource'
    ? present.dsource(dataset as DSource, nextSnapshotAt)
    : present.vdb(dataset as Vdb, nextSnapshotAt);
}

function answerContext(ports: ApiPorts): AnswerContext {
  return { nextSnapshotAt: (datasetId) => ports.schedules.nextRunAt?.(datasetId)?.toISOString() };
}

function parseBody(route: Route, text: string | undefined): Record<string, unknown> {
  const given = text !== undefined && text.trim() !== '';
  if (route.body === undefined) {
    if (!given) return {};
    throw new SnapflowError(ErrorNames.Validation, `${route.method} ${route.path} takes no body`, {
      action: 'Send the request without a body.',
      field: 'body',
    });
  }
  if (!given) return validate(route.body, {}, 'body');
  const size = new TextEncoder().encode(text).length;
  if (size > BODY_LIMIT_BYTES) throw bodyTooLarge(size);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SnapflowError(
      ErrorNames.Validation,
      `body is not JSON (${error instanceof Error ? error.message : String(error)})`,
      { action: 'Send the body as a JSON object.', field: 'body' },
    );
  }
  return validate(route.body, parsed, 'body');
}

/** The error for a body over {@link BODY_LIMIT_BYTES}; `size` in bytes, when known. */
export function bodyTooLarge(size?: number): SnapflowError {
  return new SnapflowError(
    ErrorNames.Validation,
    `body is ${size === undefined ? 'larger than' : `${size} bytes, more than`} the limit of ${BODY_LIMIT_BYTES} bytes`,
    { action: 'Send only the fields the route documents.', field: 'body' },
  );
}

async function expectRecord(engine: EngineApi, kind: RecordKind, id: string): Promise<void> {
  await engine[recordGetters[kind]](id);
}

function defined(values: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
