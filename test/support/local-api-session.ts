import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ApiFile, apiFilePath } from '../../lib/local/api-file';
import { type LocalServer, serveLocal } from '../../lib/local/serve-local';
import { mountPointsBelow } from './local-session';

const run = promisify(execFile);

/** A JSON object the API answered with. */
export type Body = Record<string, unknown>;

/** A job as `GET /jobs/{id}` answers it. */
export interface JobBody {
  id: string;
  workflow: string;
  status: string;
  target_id?: string;
  steps: { name: string; status: string; started_at: string; ended_at?: string }[];
  output?: Body;
  error?: Body;
}

/** Options of {@link LocalApiSession.call}. */
export interface CallOptions {
  /** The bearer token; `null` sends none. @default the token of `api.json` */
  token?: string | null;
  /** Sent as JSON. @default no body */
  body?: unknown;
}

/** Local mode serving its API over HTTP from a temporary home of its own, as `snapflow up` does, for e2e tests. */
export interface LocalApiSession {
  /** The local-mode home: engine data, jobs, `api.json`; the tests' sources and mount points go below it too. */
  home: string;
  server: LocalServer;
  /** What the server wrote to `<home>/api.json` when it started. */
  file: ApiFile;
  /** Sends a request with the token of {@link file}; a body that is not JSON fails the call. */
  call(method: string, path: string, options?: CallOptions): Promise<{ status: number; body: Body }>;
  /**
   * Polls `GET /jobs/{id}` until the job has ended; a job not there yet (404) is waited for too.
   * @throws Error when it has not ended within `timeoutMs` (default 120 s)
   */
  waitForJob(id: string, timeoutMs?: number): Promise<JobBody>;
  /** The ids of the jobs local mode has recorded in its job file, to tell that a request started none. */
  recordedJobIds(): Promise<string[]>;
  /** Stops the server; later calls do nothing. */
  stop(): Promise<void>;
  /** Stops the server, unmounts what is mounted below the home (deepest first) and removes the home. */
  close(): Promise<void>;
}

/**
 * Starts local mode's API (`serveLocal`, backend `auto`) in a new temporary home.
 *
 * @param prefix of the home's name in the temporary directory, to tell the suites' leftovers apart
 */
export async function startLocalApiSession(prefix = 'snapflow-api-e2e-'): Promise<LocalApiSession> {
  const home = await mkdtemp(join(tmpdir(), prefix));
  const server = await serveLocal({ home, backend: 'auto' }).catch(async (error: unknown) => {
    await rm(home, { recursive: true, force: true });
    throw error;
  });
  const file = JSON.parse(await readFile(apiFilePath(home), 'utf8')) as ApiFile;
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= server.close();
    return stopped;
  };

  const call: LocalApiSession['call'] = async (method, path, options = {}) => {
    const token = options.token === undefined ? file.token : options.token;
    const response = await fetch(`${file.url}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Body };
  };

  return {
    home,
    server,
    file,
    call,
    async waitForJob(id, timeoutMs = 120_000) {
      for (const started = Date.now(); Date.now() - started < timeoutMs; await sleep(100)) {
        const job = await call('GET', `/jobs/${id}`);
        if (job.status === 200 && job.body.status !== 'RUNNING') return job.body as unknown as JobBody;
      }
      throw new Error(`job ${id} did not end within ${timeoutMs} ms`);
    },
    async recordedJobIds() {
      const text = await readFile(join(home, 'jobs.json'), 'utf8').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return '{"jobs":[]}';
        throw error;
      });
      return (JSON.parse(text) as { jobs: { id: string }[] }).jobs.map((job) => job.id).sort();
    },
    stop,
    async close() {
      try {
        await stop();
      } finally {
        for (const mount of (await mountPointsBelow(home)).sort().reverse()) await run('umount', [mount]);
        await rm(home, { recursive: true, force: true });
      }
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
