import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, executeApiRegion } from '../../../lib/adapters/api-client';
import { isSnapflowError } from '../../../lib/core/errors';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A server that records each request and answers what the test queued. */
class FakeApi {
  readonly received: Received[] = [];
  answer: { status: number; body: string } = { status: 200, body: '{}' };
  private server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      this.received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      response.writeHead(this.answer.status, { 'content-type': 'application/json' });
      response.end(this.answer.body);
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Signs the request as received, the way API Gateway checks it, and returns the Authorization it expects. */
async function expectedAuthorization(received: Received, region: string): Promise<string> {
  const url = new URL(received.url, 'http://placeholder');
  const amzDate = received.headers['x-amz-date'] as string;
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(received.headers.authorization as string)?.[1]?.split(';') ?? [];
  const headers = Object.fromEntries(signedHeaders.map((name) => [name, String(received.headers[name])]));
  const [hostname, port] = String(received.headers.host).split(':');
  const signer = new SignatureV4({ service: 'execute-api', region, credentials, sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: received.method,
      protocol: 'http:',
      hostname: hostname as string,
      port: Number(port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      ...(received.body === '' ? {} : { body: received.body }),
    },
    { signingDate },
  );
  return signed.headers.authorization as string;
}

describe('createApiClient', () => {
  const api = new FakeApi();
  beforeAll(() => api.start());
  afterAll(() => api.stop());

  it('signs requests with SigV4 so that the server computes the same signature from what it received', async () => {
    api.answer = { status: 202, body: '{"job":{"id":"sync-0123456789abcdef"}}' };
    const client = createApiClient({
      url: `${api.url}/v1`,
      sigv4: { region: 'eu-west-1', credentials, now: () => new Date('2026-11-21T10:00:00Z') },
    });

    const answer = await client.call('syncDSource', { id: 'ds-0123456789abcdef', body: { resync: true } });

    expect(answer).toEqual({ job: { id: 'sync-0123456789abcdef' } });
    const received = api.received.at(-1) as Received;
    expect(received.method).toBe('POST');
    expect(received.url).toBe('/v1/dsources/ds-0123456789abcdef/snapshots');
    expect(received.headers['x-amz-date']).toBe('20261121T100000Z');
    expect(received.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261121\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(received.headers.authorization).toBe(await expectedAuthorization(received, 'eu-west-1'));
  });

  it('signs the query string too', async () => {
    api.answer = { status: 200, body: '[]' };
    const client = createApiClient({ url: api.url, sigv4: { region: 'us-east-1', credentials } });

    await client.call('listSnapshots', { query: { dataset_id: 'vdb-0123456789abcdef' } });

    const received = api.received.at(-1) as Received;
    expect(received.url).toBe('/snapshots?dataset_id=vdb-0123456789abcdef');
    expect(received.headers.authorization).toBe(await expectedAuthorization(received, 'us-east-1'));
  });

  it('sends the bearer token to a local API', async () => {
    api.answer = { status: 204, body: '' };
    const client = createApiClient({ url: api.url, token: 'secret-token' });

    expect(await client.call('deleteTimeflow', { id: 'tf-0123456789abcdef' })).toBeUndefined();
    expect(api.received.at(-1)?.headers.authorization).toBe('Bearer secret-token');
    expect(api.received.at(-1)?.method).toBe('DELETE');
  });

  it("turns the API's error answer back into the same SnapflowError", async () => {
    api.answer = {
      status: 409,
      body: JSON.stringify({
        error: { code: 'DependentsExistError', message: 'in use', action: 'Delete vdb x first.' },
      }),
    };
    const client = createApiClient({ url: api.url, token: 't' });

    await expect(client.call('deleteVdb', { id: 'vdb-0123456789abcdef' })).rejects.toSatisfy(
      (error) => isSnapflowError(error, 'DependentsExistError') && error.action === 'Delete vdb x first.',
    );
  });

  it("takes API Gateway's own refusal as an UnauthorizedError", async () => {
    api.answer = { status: 403, body: '{"message":"Missing Authentication Token"}' };
    const client = createApiClient({ url: api.url });

    await expect(client.call('listVdbs')).rejects.toSatisfy(
      (error) => isSnapflowError(error, 'UnauthorizedError') && error.message.includes('Missing Authentication Token'),
    );
  });

  it('says how to start the API when nothing answers', async () => {
    const client = createApiClient({ url: 'http://127.0.0.1:9' });

    await expect(client.call('listVdbs')).rejects.toSatisfy(
      (error) => isSnapflowError(error, 'EngineUnavailableError') && error.action.includes('snapflow up'),
    );
  });
});

describe('executeApiRegion', () => {
  it('reads the region of an API Gateway URL only', () => {
    expect(executeApiRegion('https://a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com/v1')).toBe('eu-central-1');
    expect(executeApiRegion('http://127.0.0.1:7760')).toBeUndefined();
  });
});
