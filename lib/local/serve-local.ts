import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Environment } from '../core/model';
import type { StorageBackendChoice } from '../engine/backends/create-storage-backend';
import { removeApiFile, writeApiFile } from './api-file';
import { startLocalApi } from './local-api';
import { LocalJobs } from './local-jobs';
import { LocalTriggers } from './local-triggers';
import { startLocalMode } from './start-local-mode';

/** Options of {@link serveLocal}. */
export interface ServeLocalOptions {
  /** The local-mode home: engine data, job history, command logs and `api.json`. */
  home: string;
  backend: StorageBackendChoice;
  /** @default 0 (any free port) */
  port?: number;
  /** How long one copy (a sync's, or an export's) may run on a host. @default 3600, as on AWS */
  copyTimeoutSeconds?: number;
  /** Sync a dSource linked from this machine when its source path changes (debounced). @default false */
  watch?: boolean;
  /** Told what schedules and the watch start and what fails, a line each. @default nothing */
  log?: (line: string) => void;
}

/** Local mode with its API, running. */
export interface LocalServer {
  url: string;
  backend: { kind: string; reason: string };
  /** This machine, as the engine knows it. */
  environment: Environment;
  /** The schedules and the source watch. */
  triggers: LocalTriggers;
  /**
   * Stops in order: the API (after the requests in progress), the schedules and the watch, the jobs
   * still running (aborted, and recorded so), the host agent and the engine. The engine's data stays in the home; VDB mounts stay
   * as they are, so a VDB in use is not pulled from under its users.
   */
  close(): Promise<void>;
}

/**
 * Starts local mode, its triggers (the datasets' snapshot schedules, and the source watch if asked
 * for) and its REST API on 127.0.0.1 with a new random token, then writes the URL and token to
 * `<home>/api.json` (mode 0600), where the CLI finds them.
 */
export async function serveLocal(options: ServeLocalOptions): Promise<LocalServer> {
  const local = await startLocalMode({
    home: options.home,
    backend: options.backend,
    ...(options.copyTimeoutSeconds === undefined
      ? {}
      : { context: { 'snapflow:copyTimeoutSeconds': options.copyTimeoutSeconds } }),
  });
  try {
    // The engine holds the home's lock now, so an api.json here is a stale one from a crash.
    await removeApiFile(options.home);
    let triggers: LocalTriggers | undefined;
    const jobs = await LocalJobs.open({
      workflows: local.workflows,
      file: join(options.home, 'jobs.json'),
      onEnd: (job) => triggers?.jobEnded(job),
    });
    const ports = { engine: local.engine, workflows: jobs, jobs };
    const started = await LocalTriggers.start({
      ports,
      environment: local.environment,
      watch: options.watch ?? false,
      log: options.log ?? (() => undefined),
    });
    triggers = started;
    const token = randomBytes(32).toString('hex');
    const api = await startLocalApi({
      ports: { ...ports, schedules: started.schedules },
      token,
      ...(options.port === undefined ? {} : { port: options.port }),
    }).catch(async (error: unknown) => {
      await started.close();
      await jobs.close();
      throw error;
    });
    await writeApiFile(options.home, { url: api.url, token, pid: process.pid });
    return {
      url: api.url,
      backend: local.backend,
      environment: local.environment,
      triggers: started,
      async close() {
        await removeApiFile(options.home);
        await api.close();
        await started.close();
        await jobs.close();
        await local.close({ keepStorage: true });
      },
    };
  } catch (error) {
    await local.close({ keepStorage: true });
    throw error;
  }
}
