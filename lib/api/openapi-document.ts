import { errorSchema } from './api-schemas';
import { type Route, routes } from './routes';
import { toOpenApiSchema } from './schema-dialects';

/** Options of {@link openApiDocument}. */
export interface OpenApiOptions {
  /** The API's base URL, listed under `servers`. @default none */
  serverUrl?: string;
}

const ERROR_STATUSES: Record<string, string> = {
  '400': 'The request is not valid; error.message names the field',
  '401': 'No valid credentials',
  '404': 'No such record or job',
  '409': 'The record is in use, has dependents, or conflicts with another',
  default: 'Any other error',
};

/**
 * The OpenAPI 3.0 document of the REST API, generated from the route table: one operation per route
 * with its parameters, request body schema, answer schema and error answers. Locally the API takes a
 * bearer token; on AWS API Gateway takes SigV4-signed requests (IAM) instead.
 */
export function openApiDocument(options: OpenApiOptions = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes as readonly Route[]) {
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Snapflow',
      version: '1',
      description:
        'Environments, source configs, dSources, snapshots, timeflows and VDBs. Mutating routes answer 202 with a job, one workflow execution; follow it with GET /jobs/{id}.',
    },
    ...(options.serverUrl === undefined ? {} : { servers: [{ url: options.serverUrl }] }),
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The local API: the token `snapflow up` writes' },
      },
      schemas: { Error: toOpenApiSchema(errorSchema) },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

function operation(route: Route): Record<string, unknown> {
  const parameters = [
    ...(route.path.includes('{id}') ? [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] : []),
    ...Object.entries(route.query?.properties ?? {}).map(([name, schema]) => ({
      name,
      in: 'query',
      required: false,
      schema: toOpenApiSchema(schema),
    })),
  ];
  const errorAnswer = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: {
            required: (route.body.required ?? []).length > 0,
            content: { 'application/json': { schema: toOpenApiSchema(route.body) } },
          },
        }),
    responses: {
      [String(route.status)]:
        route.response === undefined
          ? { description: 'Done' }
          : {
              description: route.status === 202 ? 'Started; the job says how it goes' : 'OK',
              content: { 'application/json': { schema: toOpenApiSchema(route.response) } },
            },
      ...Object.fromEntries(Object.entries(ERROR_STATUSES).map(([status, text]) => [status, errorAnswer(text)])),
    },
  };
}
