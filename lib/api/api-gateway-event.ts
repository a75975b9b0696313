import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ApiResponse, IncomingRequest } from './handle-request';
import { findRoute } from './routes';

/**
 * The request in an API Gateway proxy event, by the event's method and resource (the route's path
 * template, such as `/vdbs/{id}`); undefined when no route has them, which the deployed API never sends.
 */
export function fromProxyEvent(event: APIGatewayProxyEvent): IncomingRequest | undefined {
  const route = findRoute(event.httpMethod, event.resource);
  if (route === undefined) return undefined;
  const body =
    event.body === null
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return { route, params: event.pathParameters ?? {}, query: event.queryStringParameters ?? {}, body };
}

/** An answer as a proxy integration returns it. */
export function toProxyResult(answer: ApiResponse): APIGatewayProxyResult {
  return {
    statusCode: answer.statusCode,
    headers: { 'content-type': 'application/json' },
    body: answer.body === undefined ? '' : JSON.stringify(answer.body),
  };
}
