import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { ErrorNames, SnapflowError } from '../../core/errors';

/** A program and its arguments. Commands run without a shell, so no argument is ever re-parsed. */
export interface Command {
  file: string;
  args: readonly string[];
}

/** Where tools such as mkfs.btrfs live when a non-login PATH leaves the sbin directories out. */
const SYSTEM_BIN_DIRECTORIES = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Longest output kept from a command; btrfs and cp are terse, so this only guards against runaways. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/**
 * The PATH commands run with: the caller's PATH followed by the system directories it lacks.
 *
 * @param path - the PATH to extend
 * @default path `process.env.PATH`
 */
export function commandSearchPath(path = process.env.PATH ?? ''): string {
  const directories = path.split(delimiter).filter((directory) => directory !== '');
  const missing = SYSTEM_BIN_DIRECTORIES.filter((directory) => !directories.includes(directory));
  return [...directories, ...missing].join(delimiter);
}

/** The full path of an executable found on {@link commandSearchPath}, or undefined. */
export async function findExecutable(name: string): Promise<string | undefined> {
  for (const directory of commandSearchPath().split(delimiter)) {
    const candidate = join(directory, name);
    const found = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (found) return candidate;
  }
  return undefined;
}

/**
 * The whole environment storage commands (mount, btrfs, cp) run with: a search path and the C locale,
 * which keeps tool messages in English so that `output` reads the same on every machine. Nothing else
 * of the engine's environment reaches them; in local mode that holds the engine's API token.
 */
export function commandEnvironment(): NodeJS.ProcessEnv {
  return { PATH: commandSearchPath(), LANG: 'C', LC_ALL: 'C' };
}

/** How a command reads in an error message: `btrfs subvolume create /p/x`. */
function formatCommand(command: Command): string {
  return [command.file, ...command.args].join(' ');
}

/**
 * Runs a command and resolves with its stdout.
 *
 * @throws StorageError naming the command, with its stderr (or stdout) in `output`
 */
export function runCommand(command: Command): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command.file,
      command.args,
      { env: commandEnvironment(), maxBuffer: MAX_OUTPUT_BYTES },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        const how = missing ? `${command.file} is not installed` : `exit status ${String(error.code ?? error.signal)}`;
        reject(
          new SnapflowError(
            ErrorNames.Storage,
            `${formatCommand(command)} failed (${how})`,
            {
              action: missing
                ? `Install ${command.file} on the engine machine, or use the dir storage backend.`
                : 'Read the output for the cause (free space, busy mounts, permissions) and retry.',
              output: (stderr.trim() || stdout.trim() || error.message).slice(-4096),
            },
            { cause: error },
          ),
        );
      },
    );
  });
}
