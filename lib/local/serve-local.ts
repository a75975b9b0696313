import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Environment } from '../core/model';
import type { StorageBackendChoice } from '../engine/backends/create-storage-backend';
import { removeApiFile, writeApiFile } from './api-file';
import { startLocalApi } from './local-api';
import { LocalJobs } from './local-jobs';
import { startLocalMode } from './start-local-mode';

/** Options of {@link serveLocal}. */
export interface ServeLocalOptions {
  /** The local-mode home: engine data, job history, command logs and `api.json`. */
  home: string;
  backend: StorageBackendChoice;
  /** @default 0 (any free port) */
  port?: number;
}

/** Local mode with its API, running. */
export interface LocalServer {
  url: string;
  backend: { kind: string; reason: string };
  /** This machine, as the engine knows it. */
  environment: Environment;
  /**
   * Stops in order: the API (after the requests in progress), the jobs still running (aborted, and
   * recorded so), the host agent and the engine. The engine's data stays in the home; VDB mounts stay
   * as they are, so a VDB in use is not pulled from under its users.
   */
  close(): Promise<void>;
}

/**
 * Starts local mode and its REST API on 127.0.0.1 with a new random token, then writes the URL and
 * token to `<home>/api.json` (mode 0600), where the CLI finds them.
 */
export async function serveLocal(options: ServeLocalOptions): Promise<LocalServer> {
  const local = await startLocalMode({ home: options.home, backend: options.backend });
  try {
    // The engine holds the home's lock now, so an api.json here is a stale one from a crash.
    await removeApiFile(options.home);
    const jobs = await LocalJobs.open({ workflows: local.workflows, file: join(options.home, 'jobs.json') });
    const token = randomBytes(32).toString('hex');
    const api = await startLocalApi({
      ports: { engine: local.engine, workflows: jobs, jobs },
      token,
      ...(options.port === undefined ? {} : { port: options.port }),
    });
    await writeApiFile(options.home, { url: api.url, token, pid: process.pid });
    return {
      url: api.url,
      backend: local.backend,
      environment: local.environment,
      async close() {
        await removeApiFile(options.home);
        await api.close();
        await jobs.close();
        await local.close({ keepStorage: true });
      },
    };
  } catch (error) {
    await local.close({ keepStorage: true });
    throw error;
  }
}
