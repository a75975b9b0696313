import { ErrorNames, SnapflowError, snapflowErrorFromJson } from '../core/errors';
import type { EngineApi } from '../core/ports';
import type { EngineHealth } from '../engine/engine';
import { parseJsonBody } from './json-body';

/** Options of {@link createEngineClient}. */
export interface EngineClientOptions {
  /** The engine's base URL, e.g. `http://127.0.0.1:7070`. */
  url: string;
  /** The engine's API token; sent as a bearer token, never logged nor put in an error. */
  token: string;
  /** @default the global fetch */
  fetch?: typeof fetch;
}

/** The engine API over HTTP, plus the engine's health check. */
export interface EngineClient extends EngineApi {
  health(): Promise<EngineHealth>;
}

/** Statuses a proxy or a restarting engine answer with: worth a retry. */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

/**
 * An {@link EngineApi} that calls the engine's HTTP API. Errors the engine answers with come back as
 * SnapflowErrors with the same name, message, action and field; when the engine cannot be reached
 * the error is EngineUnavailableError, which workflows retry.
 */
export function createEngineClient(options: EngineClientOptions): EngineClient {
  const base = options.url.replace(/\/+$/, '');
  const send = options.fetch ?? fetch;
  const authorization = `Bearer ${options.token}`;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const where = `${method} ${base}${path}`;
    let text: string;
    let status: number;
    try {
      const response = await send(`${base}${path}`, {
        method,
        headers: {
          authorization,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      throw unavailable(where, error);
    }
    if (status === 204) return undefined as T;
    const parsed = parseJsonBody(text);
    if (status >= 200 && status < 300 && parsed !== undefined) return parsed as T;
    throw answeredError(where, status, parsed);
  }

  const id = encodeURIComponent;
  return {
    health: () => call('GET', '/health'),
    createEnvironment: (input) => call('POST', '/environments', input),
    getEnvironment: (environmentId) => call('GET', `/environments/${id(environmentId)}`),
    listEnvironments: () => call('GET', '/environments'),
    deleteEnvironment: (environmentId) => call('DELETE', `/environments/${id(environmentId)}`),
    createSourceConfig: (input) => call('POST', '/source-configs', input),
    getSourceConfig: (sourceConfigId) => call('GET', `/source-configs/${id(sourceConfigId)}`),
    listSourceConfigs: () => call('GET', '/source-configs'),
    deleteSourceConfig: (sourceConfigId) => call('DELETE', `/source-configs/${id(sourceConfigId)}`),
    createDSource: (input) => call('POST', '/dsources', input),
    getDSource: (dsourceId) => call('GET', `/dsources/${id(dsourceId)}`),
    listDSources: () => call('GET', '/dsources'),
    deleteDSource: (dsourceId) => call('DELETE', `/dsources/${id(dsourceId)}`),
    updateDatasetSettings: (datasetId, input) => call('PATCH', `/datasets/${id(datasetId)}/settings`, input),
    exportDataset: (datasetId, input) => call('POST', `/datasets/${id(datasetId)}/export`, input),
    exportSnapshot: (snapshotId) => call('POST', `/snapshots/${id(snapshotId)}/export`),
    snapshotDataset: (datasetId, input) => call('POST', `/datasets/${id(datasetId)}/snapshots`, input),
    getSnapshot: (snapshotId) => call('GET', `/snapshots/${id(snapshotId)}`),
    listSnapshots: (filter = {}) => call('GET', `/snapshots${query(filter)}`),
    deleteSnapshot: (snapshotId) => call('DELETE', `/snapshots/${id(snapshotId)}`),
    updateSnapshot: (snapshotId, input) => call('PATCH', `/snapshots/${id(snapshotId)}`, input),
    createVdb: (input) => call('POST', '/vdbs', input),
    getVdb: (vdbId) => call('GET', `/vdbs/${id(vdbId)}`),
    listVdbs: () => call('GET', '/vdbs'),
    updateVdb: (vdbId, input) => call('PATCH', `/vdbs/${id(vdbId)}`, input),
    deleteVdb: (vdbId) => call('DELETE', `/vdbs/${id(vdbId)}`),
    listTimeflows: (filter = {}) => call('GET', `/timeflows${query(filter)}`),
    getTimeflow: (timeflowId) => call('GET', `/timeflows/${id(timeflowId)}`),
    createTimeflow: (vdbId, input) => call('POST', `/vdbs/${id(vdbId)}/timeflows`, input),
    switchTimeflow: (vdbId, timeflowId) => call('POST', `/vdbs/${id(vdbId)}/switch-timeflow`, { timeflowId }),
    deleteTimeflow: (timeflowId) => call('DELETE', `/timeflows/${id(timeflowId)}`),
    acquireLease: (datasetId, input) => call('POST', `/datasets/${id(datasetId)}/lease`, input),
    releaseLease: (datasetId, holder) => call('DELETE', `/datasets/${id(datasetId)}/lease${query({ holder })}`),
    getSpace: (objectId) => call('GET', `/space/${id(objectId)}`),
    listDependents: (objectId) => call('GET', `/dependents/${id(objectId)}`),
  };
}

/** A query string of the filters given (`?datasetId=…`), or nothing when none is. */
function query(filter: Readonly<Record<string, string | undefined>>): string {
  const given = Object.entries(filter).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return given.length === 0 ? '' : `?${new URLSearchParams(given).toString()}`;
}

function unavailable(where: string, error: unknown): SnapflowError {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const reason = typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.message : String(error);
  return new SnapflowError(
    ErrorNames.EngineUnavailable,
    `the engine did not answer ${where} (${reason})`,
    { action: 'Check that the engine is running and that the URL is right; the call can be retried.' },
    { cause: error },
  );
}

/** The error an answer stands for: the engine's own error body, else one made from the status. */
function answeredError(where: string, status: number, body: unknown): SnapflowError {
  const answered = snapflowErrorFromJson(body, 'See the engine log.');
  if (answered !== undefined) return answered;
  if (UNAVAILABLE_STATUSES.has(status))
    return new SnapflowError(ErrorNames.EngineUnavailable, `${where} answered HTTP ${status}`, {
      action: 'The engine or a proxy in front of it is not ready; the call can be retried.',
    });
  return new SnapflowError(ErrorNames.Storage, `${where} answered HTTP ${status} without an engine error`, {
    action: 'Check that the URL points at a Snapflow engine.',
  });
}
