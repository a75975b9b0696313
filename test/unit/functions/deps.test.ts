import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stepPorts } from '../../../functions/_shared/deps';

const secrets = mockClient(SecretsManagerClient);

/** Captures the Authorization header of the engine client's first request. */
function captureAuthorization(): () => string | undefined {
  let authorization: string | undefined;
  vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
    authorization = new Headers(init.headers).get('authorization') ?? undefined;
    return new Response(JSON.stringify({ id: 'vdb-0000000000000001' }), {
      headers: { 'content-type': 'application/json' },
    });
  });
  return () => authorization;
}

describe('stepPorts', () => {
  afterEach(() => {
    secrets.reset();
    vi.unstubAllGlobals();
  });

  it('builds an engine client with ENGINE_TOKEN, once for the same environment', async () => {
    const authorization = captureAuthorization();
    const env = { ENGINE_URL: 'http://engine.test:7750', ENGINE_TOKEN: 'direct-token' };

    const ports = await stepPorts(env);
    await ports.engine.getVdb('vdb-0000000000000001').catch(() => undefined);

    expect(authorization()).toBe('Bearer direct-token');
    expect(await stepPorts({ ...env })).toBe(ports);
    expect(ports.clock.now()).toBeInstanceOf(Date);
  });

  it('reads the token from Secrets Manager once per cold start', async () => {
    const authorization = captureAuthorization();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'secret-token\n' });
    const env = {
      ENGINE_URL: 'http://engine.test:7750',
      ENGINE_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:a',
    };

    const ports = await stepPorts(env);
    await stepPorts(env);
    await ports.engine.getVdb('vdb-0000000000000001').catch(() => undefined);

    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(authorization()).toBe('Bearer secret-token');
  });

  it('tries Secrets Manager again after a failure', async () => {
    secrets.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolves({ SecretString: 'later' });
    const env = {
      ENGINE_URL: 'http://engine.test:7750',
      ENGINE_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:b',
    };

    await expect(stepPorts(env)).rejects.toThrow('throttled');
    await expect(stepPorts(env)).resolves.toHaveProperty('engine');
  });

  it('names what is missing', async () => {
    await expect(stepPorts({})).rejects.toThrow('ENGINE_URL is not set');
    await expect(stepPorts({ ENGINE_URL: 'http://engine.test:7750' })).rejects.toThrow(
      'Neither ENGINE_TOKEN nor ENGINE_TOKEN_SECRET_ARN is set',
    );
  });
});
