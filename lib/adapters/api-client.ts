import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { type OperationId, routeByOperation } from '../api/routes';
import { ErrorNames, SnapflowError, snapflowErrorFromJson } from '../core/errors';
import { parseJsonBody } from './json-body';

/** AWS credentials, or a function that finds them (such as the SDK's default chain). */
export type AwsCredentials = ConstructorParameters<typeof SignatureV4>[0]['credentials'];

/** Options of {@link createApiClient}. */
export interface ApiClientOptions {
  /** The API's base URL: `http://127.0.0.1:<port>` locally, the stage URL on API Gateway. */
  url: string;
  /** Sent as a bearer token (the local API); never logged nor put in an error. */
  token?: string;
  /** Sign every request with SigV4 for API Gateway's IAM auth (`execute-api`). */
  sigv4?: {
    region: string;
    credentials: AwsCredentials;
    /** @default the current time */
    now?: () => Date;
  };
  /** @default the global fetch */
  fetch?: typeof fetch;
}

/** What a call sends besides the route: the path's `{id}`, the query and the body. */
export interface ApiCall {
  id?: string;
  query?: Readonly<Record<string, string | undefined>>;
  body?: unknown;
}

/** The REST API from the client side: any route of the route table, by operation id. */
export interface ApiClient {
  /** The base URL calls go to. */
  readonly url: string;
  /**
   * Calls the route and resolves to the answer's JSON body (undefined for 204).
   * @throws the SnapflowError the API answered with; EngineUnavailableError when it cannot be reached
   */
  call<T = unknown>(operationId: OperationId, call?: ApiCall): Promise<T>;
}

/** The region of an API Gateway URL (`https://<id>.execute-api.<region>.amazonaws.com/...`), else undefined. */
export function executeApiRegion(url: string): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(url).hostname)?.[1];
}

/**
 * A client of the Snapflow REST API. It builds each request from the route table (method and path by
 * operation id), authenticates with a bearer token or a SigV4 signature, and turns error answers back
 * into SnapflowErrors with the API's code, message and action.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const base = options.url.replace(/\/+$/, '');
  const send = options.fetch ?? fetch;
  const signer =
    options.sigv4 === undefined
      ? undefined
      : new SignatureV4({
          service: 'execute-api',
          region: options.sigv4.region,
          credentials: options.sigv4.credentials,
          sha256: Sha256,
        });

  async function headersFor(method: string, url: URL, body: string | undefined): Promise<Record<string, string>> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
    };
    if (signer === undefined) return headers;
    const signed = await signer.sign(
      {
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { ...headers, host: url.host },
        ...(body === undefined ? {} : { body }),
      },
      { signingDate: options.sigv4?.now?.() ?? new Date() },
    );
    // fetch sets Host from the URL itself, to the value signed here.
    const { host: _host, ...rest } = signed.headers;
    return rest;
  }

  return {
    url: base,
    async call<T>(operationId: OperationId, call: ApiCall = {}): Promise<T> {
      const route = routeByOperation(operationId);
      const path = route.path.replace('{id}', encodeURIComponent(call.id ?? ''));
      const url = new URL(`${base}${path}`);
      for (const [key, value] of Object.entries(call.query ?? {}))
        if (value !== undefined) url.searchParams.set(key, value);
      const body = call.body === undefined ? undefined : JSON.stringify(call.body);
      const where = `${route.method} ${url.href}`;
      let status: number;
      let text: string;
      try {
        const response = await send(url, {
          method: route.method,
          headers: await headersFor(route.method, url, body),
          ...(body === undefined ? {} : { body }),
        });
        status = response.status;
        text = await response.text();
      } catch (error) {
        if (error instanceof SnapflowError) throw error;
        throw unreachable(base, where, error);
      }
      if (status === 204) return undefined as T;
      const parsed = parseJsonBody(text);
      if (status >= 200 && status < 300 && parsed !== undefined) return parsed as T;
      throw answeredError(where, status, parsed, text);
    },
  };
}

function unreachable(base: string, where: string, error: unknown): SnapflowError {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const reason = typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.message : String(error);
  return new SnapflowError(
    ErrorNames.EngineUnavailable,
    `the Snapflow API at ${base} did not answer ${where} (${reason})`,
    { action: 'Start it with `snapflow up`, or point --api (or SNAPFLOW_API_URL) at a running API.' },
    { cause: error },
  );
}

/** The error an answer stands for: the API's own error body, else one made from the status. */
function answeredError(where: string, status: number, body: unknown, text: string): SnapflowError {
  const answered = snapflowErrorFromJson(body, 'See the API log.');
  if (answered !== undefined) return answered;
  // API Gateway answers for itself before the function runs: `{"message": "..."}`.
  const message = (body as { message?: unknown } | undefined)?.message;
  const detail = typeof message === 'string' ? message : text.slice(0, 200);
  if (status === 401 || status === 403) {
    return new SnapflowError(ErrorNames.Unauthorized, `${where} was refused (HTTP ${status}: ${detail})`, {
      action:
        'Check the credentials: the token in api.json or SNAPFLOW_API_TOKEN, or AWS credentials allowed to call the API.',
    });
  }
  if (status === 502 || status === 503 || status === 504) {
    return new SnapflowError(ErrorNames.EngineUnavailable, `${where} answered HTTP ${status} (${detail})`, {
      action: 'The API is not ready; try again shortly.',
    });
  }
  return new SnapflowError(ErrorNames.Storage, `${where} answered HTTP ${status} (${detail})`, {
    action: 'Check that the URL points at a Snapflow API.',
  });
}
