import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { fromProxyEvent, toProxyResult } from '../../../lib/api/api-gateway-event';

const event = (fields: Partial<APIGatewayProxyEvent>) =>
  ({
    pathParameters: null,
    queryStringParameters: null,
    body: null,
    isBase64Encoded: false,
    ...fields,
  }) as APIGatewayProxyEvent;

describe('fromProxyEvent', () => {
  it('finds the route by method and resource, with path, query and body', () => {
    const request = fromProxyEvent(
      event({
        httpMethod: 'POST',
        resource: '/vdbs/{id}/rollback_by_snapshot',
        pathParameters: { id: 'vdb-0123456789abcdef' },
        body: Buffer.from('{"snapshot_id":"snap-0123456789abcdef"}').toString('base64'),
        isBase64Encoded: true,
      }),
    );

    expect(request?.route.operationId).toBe('rollbackVdbBySnapshot');
    expect(request?.params).toEqual({ id: 'vdb-0123456789abcdef' });
    expect(request?.query).toEqual({});
    expect(request?.body).toBe('{"snapshot_id":"snap-0123456789abcdef"}');
  });

  it('finds nothing for a resource that is no route', () => {
    expect(fromProxyEvent(event({ httpMethod: 'PUT', resource: '/vdbs' }))).toBeUndefined();
  });
});

describe('toProxyResult', () => {
  it('answers JSON, and an empty body for 204', () => {
    expect(toProxyResult({ statusCode: 200, body: [1] })).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: '[1]',
    });
    expect(toProxyResult({ statusCode: 204 }).body).toBe('');
  });
});
