import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, JobReader, WorkflowStarter } from '../../../lib/api/api-ports';
import { BODY_LIMIT_BYTES } from '../../../lib/api/handle-request';
import { buildLocalApi } from '../../../lib/local/local-api';
import { records, stubEngine } from '../../support/stub-engine';
import { stubSchedules } from '../../support/stub-schedules';

const TOKEN = 'a-token-for-the-tests';

const noJobs: WorkflowStarter & JobReader = {
  start: async (workflow, input, jobId): Promise<Job> => ({
    id: jobId,
    workflow,
    status: 'RUNNING',
    input,
    startedAt: '2026-11-21T10:00:00.000Z',
    steps: [],
  }),
  get: async () => {
    throw new Error('not used');
  },
};

describe('buildLocalApi', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildLocalApi({
      ports: {
        engine: stubEngine({ listEnvironments: async () => [records.environment], getVdb: async () => records.vdb }),
        workflows: noJobs,
        jobs: noJobs,
        schedules: stubSchedules(),
      },
      token: TOKEN,
      log: () => undefined,
    });
  });
  afterAll(() => app.close());
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('answers 401 in the error shape without a token or with a wrong one', async () => {
    const none = await app.inject({ method: 'GET', url: '/environments' });
    const wrong = await app.inject({ method: 'GET', url: '/environments', headers: { authorization: 'Bearer nope' } });

    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.json()).toMatchObject({
      error: { code: 'UnauthorizedError', message: 'the request carries no API token' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'UnauthorizedError', message: 'the API token is not valid' } });
  });

  it('serves the routes of the table with the token', async () => {
    const answer = await app.inject({ method: 'GET', url: '/environments', headers: auth });

    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual([expect.objectContaining({ id: records.environment.id, host_id: 'local' })]);
  });

  it('takes a body with or without a JSON content type', async () => {
    for (const headers of [
      { ...auth, 'content-type': 'application/json' },
      { ...auth, 'content-type': 'text/plain' },
    ]) {
      const answer = await app.inject({
        method: 'POST',
        url: `/vdbs/${records.vdb.id}/rollback_by_snapshot`,
        headers,
        payload: JSON.stringify({ snapshot_id: records.snapshot.id }),
      });
      expect(answer.statusCode, JSON.stringify(headers)).toBe(202);
    }
  });

  it('refuses a body over the limit as a ValidationError', async () => {
    const answer = await app.inject({
      method: 'POST',
      url: '/environments',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(BODY_LIMIT_BYTES) }),
    });

    expect(answer.statusCode).toBe(400);
    expect(answer.json()).toMatchObject({ error: { code: 'ValidationError', field: 'body' } });
  });

  it('answers 404 in the error shape for a route that does not exist', async () => {
    const answer = await app.inject({ method: 'GET', url: '/volumes', headers: auth });

    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toMatchObject({
      error: { code: 'NotFoundError', message: 'there is no route GET /volumes' },
    });
  });

  it('serves its OpenAPI document to anyone', async () => {
    const answer = await app.inject({ method: 'GET', url: '/openapi.json' });

    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ openapi: '3.0.3', paths: { '/vdbs/provision_by_snapshot': {} } });
  });
});
