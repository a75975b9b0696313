import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createEngineClient } from '../../lib/adapters/engine-client';
import type { StepPorts } from '../../lib/core/steps/step-ports';

/** Where the handlers find the engine. */
export interface EngineEnv {
  /** The engine's base URL. */
  ENGINE_URL?: string;
  /** The API token itself; set where no secret store is at hand. */
  ENGINE_TOKEN?: string;
  /** ARN of the Secrets Manager secret whose string is the API token; read once per cold start. */
  ENGINE_TOKEN_SECRET_ARN?: string;
}

let built: { key: string; ports: Promise<StepPorts> } | undefined;
let secrets: SecretsManagerClient | undefined;

/**
 * The ports a step needs, built once per cold start from the environment and built again only if the
 * environment changes. A failed build (say, Secrets Manager throttled) is forgotten, so the next
 * invocation tries again.
 *
 * @throws Error naming the missing variable when the function is deployed without engine settings
 */
export async function stepPorts(env: EngineEnv = process.env): Promise<StepPorts> {
  const url = env.ENGINE_URL;
  if (url === undefined || url === '') throw new Error('ENGINE_URL is not set: bind the function to the engine');
  const key = JSON.stringify([url, env.ENGINE_TOKEN, env.ENGINE_TOKEN_SECRET_ARN]);
  if (built?.key === key) return built.ports;
  const ports = engineToken(env).then((token) => ({
    engine: createEngineClient({ url, token }),
    clock: { now: () => new Date() },
  }));
  built = { key, ports };
  ports.catch(() => {
    if (built?.ports === ports) built = undefined;
  });
  return ports;
}

async function engineToken(env: EngineEnv): Promise<string> {
  if (env.ENGINE_TOKEN !== undefined && env.ENGINE_TOKEN !== '') return env.ENGINE_TOKEN;
  const secretId = env.ENGINE_TOKEN_SECRET_ARN;
  if (secretId === undefined || secretId === '') {
    throw new Error('Neither ENGINE_TOKEN nor ENGINE_TOKEN_SECRET_ARN is set: bind the function to the engine');
  }
  secrets ??= new SecretsManagerClient({});
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  const token = SecretString?.trim();
  if (token === undefined || token === '') throw new Error(`The secret ${secretId} holds no engine token`);
  return token;
}
