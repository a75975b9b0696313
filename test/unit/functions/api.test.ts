import { DescribeExecutionCommand, GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/api';
import { workflowInputSchemas } from '../../../lib/core/workflow-inputs';

const sfn = mockClient(SFNClient);
const context = { getRemainingTimeInMillis: () => 30_000, awsRequestId: 'request-1' } as unknown as Context;
const event = (fields: Partial<APIGatewayProxyEvent>) =>
  ({
    pathParameters: null,
    queryStringParameters: null,
    body: null,
    isBase64Encoded: false,
    ...fields,
  }) as APIGatewayProxyEvent;

describe('functions/api', () => {
  beforeAll(() => {
    vi.stubEnv('ENGINE_URL', 'http://engine.test:7750');
    vi.stubEnv('ENGINE_TOKEN', 'engine-token');
    vi.stubEnv(
      'STATE_MACHINE_ARNS',
      JSON.stringify(
        Object.fromEntries(
          Object.keys(workflowInputSchemas).map((name) => [
            name,
            `arn:aws:states:us-east-1:123456789012:stateMachine:${name}`,
          ]),
        ),
      ),
    );
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    sfn.reset();
  });

  it('answers GET /jobs/{id} from Step Functions', async () => {
    sfn.on(DescribeExecutionCommand).resolves({
      status: 'RUNNING',
      input: '{"vdbId":"vdb-0123456789abcdef"}',
      startDate: new Date('2026-11-21T10:00:00Z'),
    });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });

    const result = await handler(
      event({ httpMethod: 'GET', resource: '/jobs/{id}', pathParameters: { id: 'stop-vdb-0123456789abcdef' } }),
      context,
    );

    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({
      id: 'stop-vdb-0123456789abcdef',
      status: 'RUNNING',
      target_id: 'vdb-0123456789abcdef',
    });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input.executionArn).toBe(
      'arn:aws:states:us-east-1:123456789012:execution:stop-vdb:stop-vdb-0123456789abcdef',
    );
  });

  it('answers 400 in the error shape for a body that is not valid', async () => {
    const result = await handler(
      event({ httpMethod: 'POST', resource: '/environments', body: '{"name":"x","host_id":"nowhere"}' }),
      context,
    );

    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'ValidationError', field: 'body.host_id' } });
  });
});
