import { createHash, timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifySchema,
  type FastifySchemaCompiler,
} from 'fastify';
import { ErrorNames, HttpStatusByError, SnapflowError } from '../core/errors';
import type { EngineApi } from '../core/ports';
import {
  type AcquireLeaseRequest,
  acquireLeaseBody,
  type CreateEnvironmentRequest,
  type CreateSourceConfigRequest,
  type CreateTimeflowRequest,
  createDSourceBody,
  createEnvironmentBody,
  createSourceConfigBody,
  createTimeflowBody,
  createTimeflowResultSchema,
  createVdbBody,
  dependentSchema,
  dsourceSchema,
  type ExportDatasetRequest,
  environmentSchema,
  errorSchema,
  exportDatasetBody,
  exportSpecSchema,
  healthSchema,
  type IdParams,
  idParams,
  type ListSnapshotsQuery,
  type ListTimeflowsQuery,
  leaseSchema,
  listSnapshotsQuery,
  listTimeflowsQuery,
  type ReleaseLeaseQuery,
  releaseLeaseQuery,
  type SwitchTimeflowRequest,
  snapshotDatasetBody,
  snapshotSchema,
  sourceConfigSchema,
  spaceSchema,
  switchTimeflowBody,
  timeflowSchema,
  type UpdateSnapshotRequest,
  type UpdateVdbRequest,
  updateDatasetSettingsBody,
  updateSnapshotBody,
  updateVdbBody,
  vdbSchema,
} from './api-schemas';
import type { Engine, EngineLog } from './engine';
import { validateRequest } from './validate-request';

/** Largest request body accepted; engine requests are small records. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** Routes anyone may call: liveness and the API description hold no data. */
const PUBLIC_ROUTES = new Set(['/health', '/openapi.json']);

/** Options of {@link buildEngineServer}. */
export interface EngineServerOptions {
  /** What the routes call: the engine, or in tests a stand-in. */
  engine: EngineApi & Pick<Engine, 'health'>;
  /** The bearer token every request except `/health` and `/openapi.json` must carry. */
  token: string;
  /** @default drops every message */
  log?: EngineLog;
}

/**
 * The engine's HTTP API (not yet listening): one route per {@link EngineApi} method, bearer-token
 * auth, path parameters and queries validated here and bodies by the engine method, errors answered as
 * `SnapflowError.toJSON()` with the status from `HttpStatusByError`, and the OpenAPI document at
 * `GET /openapi.json`.
 */
export async function buildEngineServer(options: EngineServerOptions): Promise<FastifyInstance> {
  const { engine } = options;
  const log = options.log ?? (() => undefined);
  const expectedDigest = digest(options.token);
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES, return503OnClosing: true });

  // Response schemas document the API; replies are plain JSON, never filtered by a schema.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Snapflow engine',
        description:
          'Environments, source configs, dSources, VDBs, their timeflows and snapshots over copy-on-write storage.',
        version: '1',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url }) => ({ schema: documented(schema) as typeof schema, url }),
  });

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url !== undefined && PUBLIC_ROUTES.has(request.routeOptions.url)) return;
    const header = request.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    if (given !== undefined && timingSafeEqual(digest(given), expectedDigest)) return;
    throw new SnapflowError(
      ErrorNames.Unauthorized,
      header === undefined ? 'the request carries no API token' : 'the API token is not valid',
      { action: "Send the engine's token as the header 'Authorization: Bearer <token>'." },
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = asSnapflowError(error, request.id);
    if (!(error instanceof SnapflowError) && answer.name === ErrorNames.Storage)
      log('error', 'request failed unexpectedly', { requestId: request.id, error: error.message, stack: error.stack });
    if (answer.name === ErrorNames.Unauthorized) reply.header('www-authenticate', 'Bearer');
    return reply.code(HttpStatusByError[answer.name]).send(answer.toJSON());
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new SnapflowError(ErrorNames.NotFound, `there is no route ${request.method} ${request.url}`, {
      action: 'See GET /openapi.json for the routes.',
    });
    return reply.code(404).send(error.toJSON());
  });

  app.get('/health', route('engine', 'health', { response: { 200: healthSchema } }), () => engine.health());
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  app.post<{ Body: CreateEnvironmentRequest }>(
    '/environments',
    route('environments', 'createEnvironment', { body: createEnvironmentBody, response: { 201: environmentSchema } }),
    async (request, reply) => reply.code(201).send(await engine.createEnvironment(request.body)),
  );
  app.get(
    '/environments',
    route('environments', 'listEnvironments', { response: { 200: { type: 'array', items: environmentSchema } } }),
    () => engine.listEnvironments(),
  );
  app.get<{ Params: IdParams }>(
    '/environments/:id',
    route('environments', 'getEnvironment', { params: idParams, response: { 200: environmentSchema } }),
    (request) => engine.getEnvironment(request.params.id),
  );
  app.delete<{ Params: IdParams }>(
    '/environments/:id',
    route('environments', 'deleteEnvironment', { params: idParams, response: { 204: noContent } }),
    async (request, reply) => {
      await engine.deleteEnvironment(request.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: CreateSourceConfigRequest }>(
    '/source-configs',
    route('source configs', 'createSourceConfig', {
      body: createSourceConfigBody,
      response: { 201: sourceConfigSchema },
    }),
    async (request, reply) => reply.code(201).send(await engine.createSourceConfig(request.body)),
  );
  app.get(
    '/source-configs',
    route('source configs', 'listSourceConfigs', {
      response: { 200: { type: 'array', items: sourceConfigSchema } },
    }),
    () => engine.listSourceConfigs(),
  );
  app.get<{ Params: IdParams }>(
    '/source-configs/:id',
    route('source configs', 'getSourceConfig', { params: idParams, response: { 200: sourceConfigSchema } }),
    (request) => engine.getSourceConfig(request.params.id),
  );
  app.delete<{ Params: IdParams }>(
    '/source-configs/:id',
    route('source configs', 'deleteSourceConfig', { params: idParams, response: { 204: noContent } }),
    async (request, reply) => {
      await engine.deleteSourceConfig(request.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: Parameters<EngineApi['createDSource']>[0] }>(
    '/dsources',
    route('dSources', 'createDSource', { body: createDSourceBody, response: { 201: dsourceSchema } }),
    async (request, reply) => reply.code(201).send(await engine.createDSource(request.body)),
  );
  app.get(
    '/dsources',
    route('dSources', 'listDSources', { response: { 200: { type: 'array', items: dsourceSchema } } }),
    () => engine.listDSources(),
  );
  app.get<{ Params: IdParams }>(
    '/dsources/:id',
    route('dSources', 'getDSource', { params: idParams, response: { 200: dsourceSchema } }),
    (request) => engine.getDSource(request.params.id),
  );
  app.delete<{ Params: IdParams }>(
    '/dsources/:id',
    route('dSources', 'deleteDSource', { params: idParams, response: { 204: noContent } }),
    async (request, reply) => {
      await engine.deleteDSource(request.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: IdParams; Body: ExportDatasetRequest }>(
    '/datasets/:id/export',
    route('datasets', 'exportDataset', {
      params: idParams,
      body: exportDatasetBody,
      response: { 200: exportSpecSchema },
    }),
    (request) => engine.exportDataset(request.params.id, request.body),
  );
  app.post<{ Params: IdParams; Body: Parameters<EngineApi['snapshotDataset']>[1] }>(
    '/datasets/:id/snapshots',
    route('datasets', 'snapshotDataset', {
      params: idParams,
      body: snapshotDatasetBody,
      response: { 201: snapshotSchema },
    }),
    async (request, reply) => reply.code(201).send(await engine.snapshotDataset(request.params.id, request.body)),
  );
  app.patch<{ Params: IdParams; Body: Parameters<EngineApi['updateDatasetSettings']>[1] }>(
    '/datasets/:id/settings',
    route('datasets', 'updateDatasetSettings', {
      params: idParams,
      body: updateDatasetSettingsBody,
      response: { 200: { description: 'The dSource or VDB as it is now', anyOf: [dsourceSchema, vdbSchema] } },
    }),
    (request) => engine.updateDatasetSettings(request.params.id, request.body),
  );
  app.post<{ Params: IdParams; Body: AcquireLeaseRequest }>(
    '/datasets/:id/lease',
    route('datasets', 'acquireLease', { params: idParams, body: acquireLeaseBody, response: { 200: leaseSchema } }),
    (request) => engine.acquireLease(request.params.id, request.body),
  );
  app.delete<{ Params: IdParams; Querystring: ReleaseLeaseQuery }>(
    '/datasets/:id/lease',
    route('datasets', 'releaseLease', {
      params: idParams,
      querystring: releaseLeaseQuery,
      response: { 204: noContent },
    }),
    async (request, reply) => {
      await engine.releaseLease(request.params.id, request.query.holder);
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: ListSnapshotsQuery }>(
    '/snapshots',
    route('snapshots', 'listSnapshots', {
      querystring: listSnapshotsQuery,
      response: { 200: { type: 'array', items: snapshotSchema } },
    }),
    (request) => engine.listSnapshots(request.query),
  );
  app.post<{ Params: IdParams }>(
    '/snapshots/:id/export',
    route('snapshots', 'exportSnapshot', { params: idParams, response: { 200: exportSpecSchema } }),
    (request) => engine.exportSnapshot(request.params.id),
  );
  app.get<{ Params: IdParams }>(
    '/snapshots/:id',
    route('snapshots', 'getSnapshot', { params: idParams, response: { 200: snapshotSchema } }),
    (request) => engine.getSnapshot(request.params.id),
  );
  app.patch<{ Params: IdParams; Body: UpdateSnapshotRequest }>(
    '/snapshots/:id',
    route('snapshots', 'updateSnapshot', {
      params: idParams,
      body: updateSnapshotBody,
      response: { 200: snapshotSchema },
    }),
    (request) => engine.updateSnapshot(request.params.id, request.body),
  );
  app.delete<{ Params: IdParams }>(
    '/snapshots/:id',
    route('snapshots', 'deleteSnapshot', { params: idParams, response: { 204: noContent } }),
    async (request, reply) => {
      await engine.deleteSnapshot(request.params.id);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: Parameters<EngineApi['createVdb']>[0] }>(
    '/vdbs',
    route('VDBs', 'createVdb', { body: createVdbBody, response: { 201: vdbSchema } }),
    async (request, reply) => reply.code(201).send(await engine.createVdb(request.body)),
  );
  app.get('/vdbs', route('VDBs', 'listVdbs', { response: { 200: { type: 'array', items: vdbSchema } } }), () =>
    engine.listVdbs(),
  );
  app.get<{ Params: IdParams }>(
    '/vdbs/:id',
    route('VDBs', 'getVdb', { params: idParams, response: { 200: vdbSchema } }),
    (request) => engine.getVdb(request.params.id),
  );
  app.patch<{ Params: IdParams; Body: UpdateVdbRequest }>(
    '/vdbs/:id',
    route('VDBs', 'updateVdb', { params: idParams, body: updateVdbBody, response: { 200: vdbSchema } }),
    (request) => engine.updateVdb(request.params.id, request.body),
  );
  app.delete<{ Params: IdParams }>(
    '/vdbs/:id',
    route('VDBs', 'deleteVdb', { params: idParams, response: { 204: noContent } }),
    async (request, reply) => {
      await engine.deleteVdb(request.params.id);
      return reply.code(204).send();
    },
  );
  app.post<{ Params: IdParams; Body: CreateTimeflowRequest }>(
    '/vdbs/:id/timeflows',
    route('timeflows', 'createTimeflow', {
      params: idParams,
      body: createTimeflowBody,
      response: { 201: createTimeflowResultSchema },
    }),
    async (request, reply) => reply.code(201).send(await engine.createTimeflow(request.params.id, request.body)),
  );
  app.post<{ Params: IdParams; Body: SwitchTimeflowRequest }>(
    '/vdbs/:id/switch-timeflow',
    route('timeflows', 'switchTimeflow', { params: idParams, body: switchTimeflowBody, response: { 200: vdbSchema } }),
    // The method takes the timeflow id, not the body, so the body's own shape is checked here.
    (request) =>
      engine.switchTimeflow(
        request.params.id,
        validateRequest<SwitchTimeflowRequest>(switchTimeflowBody, request.body).timeflowId,
      ),
  );

  app.get<{ Querystring: ListTimeflowsQuery }>(
    '/timeflows',
    route('timeflows', 'listTimeflows', {
      querystring: listTimeflowsQuery,
      response: { 200: { type: 'array', items: timeflowSchema } },
    }),
    (request) => engine.listTimeflows(request.query),
  );
  app.get<{ Params: IdParams }>(
    '/timeflows/:id',
    route('timeflows', 'getTimeflow', { params: idParams, response: { 200: timeflowSchema } }),
    (request) => engine.getTimeflow(request.params.id),
  );
  app.delete<{ Params: IdParams }>(
    '/timeflows/:id',
    route('timeflows', 'deleteTimeflow', { params: idParams, response: { 204: noContent } }),
    async (request, reply) => {
      await engine.deleteTimeflow(request.params.id);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: IdParams }>(
    '/space/:id',
    route('space', 'getSpace', { params: idParams, response: { 200: spaceSchema } }),
    (request) => engine.getSpace(request.params.id),
  );
  app.get<{ Params: IdParams }>(
    '/dependents/:id',
    route('dependents', 'listDependents', {
      params: idParams,
      response: { 200: { type: 'array', items: dependentSchema } },
    }),
    (request) => engine.listDependents(request.params.id),
  );

  return app;
}

const noContent = { type: 'null' } as const;

/** How the OpenAPI document describes each response, by status. */
const RESPONSE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  200: 'OK',
  201: 'Created',
  204: 'Deleted',
  default: 'The failure as a SnapflowError: code (the error name), message, action, and the field at fault',
};

/**
 * Route options: the schemas (for the OpenAPI document, and for validating path parameters and
 * queries), a tag, an operationId named after the EngineApi method, and {@link requestValidator}.
 */
function route(tag: string, operationId: string, schema: FastifySchema & { response: Record<number, object> }) {
  const isPublic = operationId === 'health';
  return {
    schema: {
      ...schema,
      tags: [tag],
      operationId,
      ...(isPublic ? { security: [] } : {}),
      response: Object.fromEntries(
        Object.entries({ ...schema.response, ...(isPublic ? {} : { default: errorSchema }) }).map(([status, body]) => [
          status,
          { description: RESPONSE_DESCRIPTIONS[status] ?? 'OK', ...body },
        ]),
      ),
    },
    validatorCompiler: requestValidator,
  };
}

/**
 * Validates path parameters and queries, naming fields as the engine does. Bodies reach the engine
 * as sent: each engine method validates its own input, for in-process callers too, with the same
 * schema and field names, so a check here would only run it twice.
 */
const requestValidator: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  if (httpPart === 'body') return (data: unknown) => ({ value: data });
  return (data: unknown) => {
    try {
      return { value: validateRequest(schema, data) };
    } catch (error) {
      return { error: error as Error };
    }
  };
};

/**
 * The error a request is answered with: SnapflowErrors as they are, fastify's client errors (bad
 * JSON, wrong content type, body too large) as ValidationErrors, and anything else as a generic
 * StorageError that reveals nothing of the engine's internals.
 */
function asSnapflowError(error: FastifyError, requestId: string): SnapflowError {
  if (error instanceof SnapflowError) return error;
  const status = error.statusCode ?? 500;
  if (status === 404)
    return new SnapflowError(ErrorNames.NotFound, error.message, { action: 'See GET /openapi.json for the routes.' });
  if (status >= 400 && status < 500)
    return new SnapflowError(ErrorNames.Validation, error.message, {
      action: `Send a JSON object of at most ${BODY_LIMIT_BYTES} bytes with 'Content-Type: application/json'.`,
    });
  return new SnapflowError(ErrorNames.Storage, `the engine failed unexpectedly (request ${requestId})`, {
    action: 'Retry; if it fails again, look up the request id in the engine log.',
  });
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * A schema as the OpenAPI document shows it: the plugin's `prettyName` becomes `title`, and the
 * Delphix-only keywords (`nameField`, `identityFields`) are dropped.
 */
function documented(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(documented);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => key !== 'nameField' && key !== 'identityFields')
      .map(([key, value]) => [key === 'prettyName' ? 'title' : key, documented(value)]),
  );
}
