import type { StorageBackendChoice } from '../engine/backends/create-storage-backend';
import { CliError } from './cli-command';

const CHOICES = ['auto', 'btrfs', 'dir'] as const satisfies readonly StorageBackendChoice[];

/** `--backend` as the usage shows it. */
export const BACKEND_USAGE = `[--backend ${CHOICES.join('|')}]`;

/**
 * The storage backend `--backend` chooses, for `up` and `demo`.
 * @param value The flag's value; absent means `auto`.
 * @throws CliError for a backend Snapflow does not have
 */
export function backendFlag(value: string | undefined): StorageBackendChoice {
  const backend = value ?? 'auto';
  const choice = CHOICES.find((known) => known === backend);
  if (choice === undefined) throw new CliError(`--backend must be auto, btrfs or dir, not ${JSON.stringify(backend)}`);
  return choice;
}
