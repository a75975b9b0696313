import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 1000 } as unknown as Context;
type Handler = (event: unknown, context: Context) => Promise<unknown>;

/**
 * The first task of each workflow validates the workflow's input before it reaches the engine, and
 * the handler hands Step Functions the ValidationError by name, with the action in its message.
 */
describe('first-step handlers', () => {
  const engineRequests = vi.fn();

  beforeAll(() => {
    vi.stubEnv('ENGINE_URL', 'http://engine.test:7750');
    vi.stubEnv('ENGINE_TOKEN', 'token');
    vi.stubGlobal('fetch', engineRequests);
  });

  // The middleware logs failing steps as on Lambda; restoreMocks puts console back before each test.
  beforeEach(() => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  afterAll(() => {
    vi.unstubAllEnvs();
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  it.each([
    ['plan-provision', { name: 'x' }],
    ['plan-refresh', { vdbId: 'nope' }],
    ['plan-rollback', { vdbId: 'vdb-0000000000000001' }],
    ['snapshot-vdb', { request: { vdbId: 'vdb-0000000000000001' }, requestToken: 'exec#SnapshotVdb' }],
    ['plan-export', { request: { vdbId: 'vdb-0000000000000001' }, executionName: 'x' }],
    ['plan-vdb-lifecycle', { workflow: 'stop-vdb', request: {} }],
    ['plan-delete-dsource', { dsourceId: 'vdb' }],
    ['acquire-lease', { workflow: 'sync', request: { dsourceId: 'ds-0000000000000001' }, holder: 'h', ttlSeconds: 60 }],
    ['plan-retention', { datasetId: 'ds-0000000000000001', trigger: { kind: 'api' } }],
  ])('%s fails with ValidationError before asking the engine', async (module, event) => {
    const { handler } = (await import(`../../../functions/${module}`)) as { handler: Handler };

    await expect(handler(event, context)).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/^input\..*\nAction: /),
    });
    expect(engineRequests).not.toHaveBeenCalled();
  });
});
