import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectApi } from '../../../lib/cli/connect-api';
import { isSnapflowError } from '../../../lib/core/errors';
import { writeApiFile } from '../../../lib/local/api-file';

describe('connectApi', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'snapflow-connect-'));
  });
  afterEach(() => rm(home, { recursive: true, force: true }));

  /** A fetch that records the URL and Authorization of the request and answers an empty list. */
  const recorder = () => {
    const seen: { url: string; authorization: string | null }[] = [];
    const fetchStub: typeof fetch = async (input, init) => {
      seen.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
      return new Response('[]', { status: 200 });
    };
    return { seen, fetchStub };
  };

  it('uses the URL and token that `up` wrote to the home', async () => {
    await writeApiFile(home, { url: 'http://127.0.0.1:7760', token: 'from-file', pid: 1 });
    const { seen, fetchStub } = recorder();

    await (await connectApi({ home, env: {}, fetch: fetchStub })).call('listVdbs');

    expect(seen).toEqual([{ url: 'http://127.0.0.1:7760/vdbs', authorization: 'Bearer from-file' }]);
  });

  it('prefers --api and SNAPFLOW_API_TOKEN', async () => {
    await writeApiFile(home, { url: 'http://127.0.0.1:7760', token: 'from-file', pid: 1 });
    const { seen, fetchStub } = recorder();

    await (
      await connectApi({
        url: 'http://127.0.0.1:9999',
        home,
        env: { SNAPFLOW_API_TOKEN: 'from-env' },
        fetch: fetchStub,
      })
    ).call('listVdbs');

    expect(seen).toEqual([{ url: 'http://127.0.0.1:9999/vdbs', authorization: 'Bearer from-env' }]);
  });

  it('signs with SigV4 for an API Gateway URL, sending no bearer token', async () => {
    const { seen, fetchStub } = recorder();

    await (
      await connectApi({
        url: 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1',
        env: { SNAPFLOW_API_TOKEN: 'ignored' },
        fetch: fetchStub,
      })
    ).call('listVdbs');

    expect(seen[0]?.url).toBe('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1/vdbs');
    expect(seen[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/eu-west-1\/execute-api\//);
  });

  it('says how to start the API when the home has none', async () => {
    await expect(connectApi({ home, env: {} })).rejects.toSatisfy(
      (error) => isSnapflowError(error, 'EngineUnavailableError') && error.action.includes('snapflow up'),
    );
  });
});
