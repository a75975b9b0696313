import { ErrorNames, SnapflowError } from '../core/errors';
import type { StorageBackendChoice } from './backends/create-storage-backend';
import type { EngineLog } from './engine';
import { type RunningEngine, startEngine } from './start-engine';

/**
 * The engine as a process: `npx tsx lib/engine/main.ts`. Configured by SNAPFLOW_ENGINE_ROOT (required),
 * SNAPFLOW_ENGINE_TOKEN (required), SNAPFLOW_ENGINE_BACKEND (btrfs, dir or auto; default auto) and
 * SNAPFLOW_ENGINE_PORT (default 0, any free port), SNAPFLOW_ENGINE_POOL_BYTES (the size of a new btrfs
 * pool; default 32 GiB, sparse) and SNAPFLOW_ENGINE_SSH_HOSTS (`true` to accept the `ssh-…` hosts of
 * local mode; default false). Prints `snapflow-engine listening <url>` on stdout
 * once it serves; logs go to stderr as JSON lines. SIGTERM or SIGINT stop it cleanly (the pool is
 * unmounted); exit status 0 then, 1 when start or stop fail, 2 for bad configuration.
 */

const log: EngineLog = (level, message, fields) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
};

function required(name: string): string {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  throw new SnapflowError(ErrorNames.Validation, `${name} is not set`, {
    action: `Set ${name} in the engine's environment.`,
    field: name,
  });
}

function port(): number {
  const text = process.env.SNAPFLOW_ENGINE_PORT ?? '0';
  if (/^[0-9]{1,5}$/.test(text)) return Number(text);
  throw new SnapflowError(ErrorNames.Validation, `SNAPFLOW_ENGINE_PORT ${JSON.stringify(text)} is not a port number`, {
    action: 'Set SNAPFLOW_ENGINE_PORT to a number from 0 (any free port) to 65535.',
    field: 'SNAPFLOW_ENGINE_PORT',
  });
}

function poolBytes(): number | undefined {
  const text = process.env.SNAPFLOW_ENGINE_POOL_BYTES;
  if (text === undefined || text === '') return undefined;
  if (/^[1-9][0-9]{0,15}$/.test(text)) return Number(text);
  throw new SnapflowError(
    ErrorNames.Validation,
    `SNAPFLOW_ENGINE_POOL_BYTES ${JSON.stringify(text)} is not a size in bytes`,
    {
      action: 'Set SNAPFLOW_ENGINE_POOL_BYTES to a whole number of bytes, or leave it unset for 32 GiB.',
      field: 'SNAPFLOW_ENGINE_POOL_BYTES',
    },
  );
}

function sshHosts(): boolean {
  const text = process.env.SNAPFLOW_ENGINE_SSH_HOSTS || 'false';
  if (text === 'true' || text === 'false') return text === 'true';
  throw new SnapflowError(
    ErrorNames.Validation,
    `SNAPFLOW_ENGINE_SSH_HOSTS ${JSON.stringify(text)} is not true or false`,
    {
      action: 'Set SNAPFLOW_ENGINE_SSH_HOSTS to true (local mode with SSH hosts) or false.',
      field: 'SNAPFLOW_ENGINE_SSH_HOSTS',
    },
  );
}

const BACKEND_CHOICES: readonly StorageBackendChoice[] = ['auto', 'btrfs', 'dir'];

function backend(): StorageBackendChoice {
  const text = process.env.SNAPFLOW_ENGINE_BACKEND || 'auto';
  const choice = BACKEND_CHOICES.find((candidate) => candidate === text);
  if (choice !== undefined) return choice;
  throw new SnapflowError(
    ErrorNames.Validation,
    `SNAPFLOW_ENGINE_BACKEND ${JSON.stringify(text)} is not a storage backend`,
    {
      action: `Set SNAPFLOW_ENGINE_BACKEND to one of ${BACKEND_CHOICES.join(', ')}, or leave it unset for auto.`,
      field: 'SNAPFLOW_ENGINE_BACKEND',
    },
  );
}

function report(error: unknown): void {
  if (error instanceof SnapflowError) {
    log('error', error.message, { code: error.name, action: error.action, output: error.output });
    return;
  }
  log('error', error instanceof Error ? (error.stack ?? error.message) : String(error));
}

async function main(): Promise<void> {
  let running: RunningEngine;
  try {
    running = await startEngine({
      root: required('SNAPFLOW_ENGINE_ROOT'),
      token: required('SNAPFLOW_ENGINE_TOKEN'),
      backend: backend(),
      port: port(),
      poolSizeBytes: poolBytes(),
      sshHosts: sshHosts(),
      log,
    });
  } catch (error) {
    report(error);
    process.exitCode = error instanceof SnapflowError && error.name === ErrorNames.Validation ? 2 : 1;
    return;
  }
  // Said on stderr as well as in the health check: the dir backend copies whole trees.
  log(running.backend.kind === 'dir' ? 'warn' : 'info', running.backend.reason, { backend: running.backend.kind });
  const shutdown = (signal: NodeJS.Signals) => {
    log('info', `stopping on ${signal}`);
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        report(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.stdout.write(`snapflow-engine listening ${running.url}\n`);
}

void main();
