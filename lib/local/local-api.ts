import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { ApiPorts } from '../api/api-ports';
import { BODY_LIMIT_BYTES, bodyTooLarge, errorResponse, handleRequest } from '../api/handle-request';
import { openApiDocument } from '../api/openapi-document';
import { type Route, routes } from '../api/routes';
import { ErrorNames, SnapflowError } from '../core/errors';

/** Options of {@link buildLocalApi}. */
export interface LocalApiOptions {
  ports: ApiPorts;
  /** The bearer token every request but `GET /openapi.json` must carry. */
  token: string;
  /** @default errors that are not Snapflow's own, as JSON lines on stderr */
  log?: (entry: Record<string, unknown>) => void;
}

/** Options of {@link startLocalApi}. */
export interface StartLocalApiOptions extends LocalApiOptions {
  /** @default 0 (any free port) */
  port?: number;
}

/** A local API that is listening. */
export interface RunningLocalApi {
  /** e.g. `http://127.0.0.1:7760` */
  url: string;
  /** Stops listening, after answering the requests in progress. */
  close(): Promise<void>;
}

const PUBLIC_PATHS = new Set(['/openapi.json']);

/**
 * The REST API in local mode (not yet listening): one fastify route per entry of the route table,
 * each handled by {@link handleRequest} exactly as the API Gateway Lambda does, behind a bearer token
 * compared in constant time. `GET /openapi.json` serves the document generated from the same table.
 */
export async function buildLocalApi(options: LocalApiOptions): Promise<FastifyInstance> {
  const log = options.log ?? ((entry) => process.stderr.write(`${JSON.stringify(entry)}\n`));
  const logUnexpected = (error: unknown) =>
    log({
      level: 'error',
      message: 'request failed unexpectedly',
      error: String(error),
      stack: (error as Error)?.stack,
    });
  const expected = digest(options.token);
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES, return503OnClosing: true });

  // Bodies reach handleRequest as text, so that it parses and limits them as the Lambda does.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url !== undefined && PUBLIC_PATHS.has(request.routeOptions.url)) return;
    const header = request.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    if (given !== undefined && timingSafeEqual(digest(given), expected)) return;
    throw new SnapflowError(
      ErrorNames.Unauthorized,
      header === undefined ? 'the request carries no API token' : 'the API token is not valid',
      {
        action:
          "Send 'Authorization: Bearer <token>' with the token from api.json in the local-mode home (the CLI does this for you).",
      },
    );
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const answer = errorResponse(asSnapflowError(error), logUnexpected);
    if (answer.statusCode === 401) reply.header('www-authenticate', 'Bearer');
    return reply.code(answer.statusCode).send(answer.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new SnapflowError(ErrorNames.NotFound, `there is no route ${request.method} ${request.url}`, {
      action: 'See GET /openapi.json for the routes.',
    });
    return reply.code(404).send(error.toJSON());
  });

  app.get('/openapi.json', async () => openApiDocument());
  for (const route of routes as readonly Route[]) {
    app.route({
      method: route.method,
      url: route.path.replace(/\{(\w+)\}/g, ':$1'),
      handler: async (request, reply) => {
        const answer = await handleRequest(
          {
            route,
            params: request.params as Record<string, string>,
            query: request.query as Record<string, string>,
            body: typeof request.body === 'string' ? request.body : undefined,
          },
          options.ports,
          { logUnexpected },
        );
        reply.code(answer.statusCode);
        return answer.body === undefined ? reply.send() : reply.send(answer.body);
      },
    });
  }
  return app;
}

/** Builds the local API and listens on 127.0.0.1 only: the token travels in plain HTTP. */
export async function startLocalApi(options: StartLocalApiOptions): Promise<RunningLocalApi> {
  const app = await buildLocalApi(options);
  const address = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  return { url: address, close: () => app.close() };
}

function asSnapflowError(error: FastifyError): unknown {
  if (error instanceof SnapflowError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return bodyTooLarge();
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new SnapflowError(ErrorNames.Validation, error.message, { action: 'Send a JSON body.', field: 'body' });
    default:
      return error;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
