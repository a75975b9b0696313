import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { type ApiClient, createApiClient, executeApiRegion } from '../adapters/api-client';
import { defaultHome, readApiFile } from '../local/api-file';

/** Options of {@link connectApi}. */
export interface ConnectApiOptions {
  /** --api */
  url?: string;
  /** --home */
  home?: string;
  env: Readonly<Record<string, string | undefined>>;
  fetch?: typeof fetch;
}

/**
 * The API the CLI talks to: `--api URL`, else SNAPFLOW_API_URL, else the local API whose URL `snapflow up`
 * wrote to `<home>/api.json`. The local API takes the token from SNAPFLOW_API_TOKEN or that file; an
 * API Gateway URL (`….execute-api.<region>.amazonaws.com`) is called with SigV4 signatures from the
 * AWS SDK's default credential chain (environment, profile, SSO, instance role).
 *
 * @throws EngineUnavailableError when no URL is given and no local API runs for the home
 */
export async function connectApi(options: ConnectApiOptions): Promise<ApiClient> {
  const { env } = options;
  const url = options.url ?? nonEmpty(env.SNAPFLOW_API_URL);
  const fetchOption = options.fetch === undefined ? {} : { fetch: options.fetch };
  if (url === undefined) {
    const file = await readApiFile(options.home ?? defaultHome(env));
    return createApiClient({ url: file.url, token: nonEmpty(env.SNAPFLOW_API_TOKEN) ?? file.token, ...fetchOption });
  }
  const region = executeApiRegion(url);
  if (region !== undefined) {
    return createApiClient({ url, sigv4: { region, credentials: defaultProvider() }, ...fetchOption });
  }
  const token = nonEmpty(env.SNAPFLOW_API_TOKEN);
  return createApiClient({ url, ...(token === undefined ? {} : { token }), ...fetchOption });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
