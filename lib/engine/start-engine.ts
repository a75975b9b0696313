import { randomBytes } from 'node:crypto';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorNames, SnapflowError } from '../core/errors';
import { createStorageBackend, type StorageBackendChoice } from './backends/create-storage-backend';
import type { StorageBackend, StorageBackendKind } from './backends/storage-backend';
import { Engine, type EngineLog } from './engine';
import { MetadataStore } from './metadata-store';
import { lockRoot, type RootLock } from './root-lock';
import { buildEngineServer } from './server';

/** Tokens shorter than this are refused: the token is all that guards the API. */
export const MIN_TOKEN_LENGTH = 16;

/** Where the API listens: loopback only, since it is plain HTTP and must not be reachable from other machines. */
const HOST = '127.0.0.1';

/** Options of {@link startEngine}. */
export interface StartEngineOptions {
  /** Directory for the engine's metadata, lock and storage pool; created if missing. */
  root: string;
  /** @default 'auto' (btrfs when running as root with btrfs support, dir otherwise) */
  backend?: StorageBackendChoice;
  /**
   * Bearer token clients must send.
   *
   * @default a new random token (returned in the result)
   */
  token?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** Size of a new btrfs pool image. @default 32 GiB, sparse */
  poolSizeBytes?: number;
  /** @default warnings and errors to stderr as JSON lines */
  log?: EngineLog;
  /** Accept `ssh-…` hosts, which local mode's host agent reaches over SSH. @default false */
  sshHosts?: boolean;
}

/** A running engine. */
export interface RunningEngine {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:40123`. */
  url: string;
  token: string;
  backend: { kind: StorageBackendKind; reason: string };
  /** The engine itself, for in-process callers that skip HTTP. */
  engine: Engine;
  /** Stops the server, lets the mutation in progress finish, releases the pool (unmounts it). Idempotent. */
  stop(): Promise<void>;
  /** Stops, then removes the pool, metadata and lock: everything under the root the engine made. */
  destroy(): Promise<void>;
}

/**
 * Starts the engine in this process: takes the root's lock, opens the storage pool, loads the
 * metadata, reconciles the two, and serves the HTTP API on loopback.
 *
 * @throws ValidationError for a bad token or port; ConflictError when another engine holds the
 *   root; UnsupportedOperationError for an unusable backend; StorageError when storage or metadata fail
 */
export async function startEngine(options: StartEngineOptions): Promise<RunningEngine> {
  const root = resolve(options.root);
  const token = options.token ?? randomBytes(32).toString('hex');
  const port = options.port ?? 0;
  const log = options.log ?? stderrLog;
  checkOptions(token, port);

  await mkdir(root, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw asStorageError(`cannot create the engine root ${root}`, error);
  });
  const lock = await lockRoot(root).catch((error: unknown) => {
    throw asStorageError(`cannot lock the engine root ${root}`, error);
  });
  const { backend, reason } = await createStorageBackend({
    backend: options.backend ?? 'auto',
    root,
    ...(options.poolSizeBytes === undefined ? {} : { poolSizeBytes: options.poolSizeBytes }),
  }).catch(async (error: unknown) => {
    await lock.release();
    throw error;
  });

  try {
    await backend.open();
    const store = await MetadataStore.open(metadataPath(root));
    const engine = new Engine({ backend, backendReason: reason, store, log, sshHosts: options.sshHosts ?? false });
    // Its report is not logged again here: reconcile logs the migration and each item it sets aside.
    await engine.reconcile();
    const server = await buildEngineServer({ engine, token, log });
    await server.listen({ host: HOST, port }).catch(async (error: NodeJS.ErrnoException) => {
      await server.close();
      if (error.code !== 'EADDRINUSE') throw asStorageError(`cannot listen on ${HOST}:${port}`, error);
      throw new SnapflowError(ErrorNames.Conflict, `port ${port} on ${HOST} is in use`, {
        action: 'Stop what listens there, or give another port (0 picks a free one).',
        field: 'port',
      });
    });
    const address = server.server.address();
    const boundPort = typeof address === 'object' && address !== null ? address.port : port;
    const url = `http://${HOST}:${boundPort}`;
    return running({ url, token, reason, root, engine, backend, lock, close: () => server.close() });
  } catch (error) {
    await backend.close().catch(() => undefined);
    await lock.release();
    throw error;
  }
}

function running(parts: {
  url: string;
  token: string;
  reason: string;
  root: string;
  engine: Engine;
  backend: StorageBackend;
  lock: RootLock;
  close: () => Promise<void>;
}): RunningEngine {
  const { engine, backend, lock } = parts;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await parts.close();
      await engine.drain();
      await backend.close();
      await lock.release();
    })();
    return stopping;
  };
  return {
    url: parts.url,
    token: parts.token,
    backend: { kind: backend.kind, reason: parts.reason },
    engine,
    stop,
    async destroy() {
      await stop();
      await backend.destroy();
      await rm(metadataPath(parts.root), { force: true });
      await rmdir(parts.root).catch(() => undefined);
    },
  };
}

function metadataPath(root: string): string {
  return join(root, 'metadata.json');
}

function checkOptions(token: string, port: number): void {
  const fail = (field: string, message: string, action: string) => {
    throw new SnapflowError(ErrorNames.Validation, message, { action, field });
  };
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))
    fail(
      'token',
      `the engine token is too short or holds whitespace`,
      `Give a token of at least ${MIN_TOKEN_LENGTH} characters without spaces, e.g. from 'openssl rand -hex 32'.`,
    );
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail('port', `port ${port} is not a TCP port`, 'Give a whole number from 0 (any free port) to 65535.');
}

function asStorageError(message: string, error: unknown): SnapflowError {
  if (error instanceof SnapflowError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new SnapflowError(
    ErrorNames.Storage,
    `${message}: ${detail}`,
    {
      action: 'Check that the engine root is a writable directory.',
    },
    { cause: error },
  );
}

const stderrLog: EngineLog = (level, message, fields) => {
  if (level === 'info') return;
  process.stderr.write(`${JSON.stringify({ level, message, ...fields })}\n`);
};
