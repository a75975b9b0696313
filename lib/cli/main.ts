import { parseArgs } from 'node:util';
import { isSnapflowError } from '../core/errors';
import { runDemo } from './demo';

const USAGE = `Usage: snapflow <command> [options]

Commands:
  demo [--backend auto|btrfs|dir] [--keep]
      Runs the whole job on the embedded engine: link and sync a sample tree, provision three
      VDBs, change source and VDB, sync again, then check every dataset's integrity.
`;

/** Thrown for bad command-line use; its message is shown as is, with the usage. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** Runs the CLI with `argv` (without node and script) and resolves to the process exit code. */
export async function main(
  argv: readonly string[],
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case 'demo':
        return (await demo(rest, out)) === 0 ? 0 : 1;
      case undefined:
      case 'help':
      case '--help':
        out(USAGE);
        return 0;
      default:
        throw new CliError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof CliError || isParseArgsError(error)) {
      err(`snapflow: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (isSnapflowError(error)) {
      err(`snapflow: ${error.name}: ${error.message}\n  what to do: ${error.action}`);
      return 1;
    }
    err(`snapflow: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

function isParseArgsError(error: unknown): error is Error {
  return error instanceof Error && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
}

function demo(args: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { backend: { type: 'string', default: 'auto' }, keep: { type: 'boolean', default: false } },
    strict: true,
  });
  const backend = values.backend;
  if (backend !== 'auto' && backend !== 'btrfs' && backend !== 'dir')
    throw new CliError(`--backend must be auto, btrfs or dir, not ${JSON.stringify(backend)}`);
  return runDemo({ backend, keep: values.keep, out });
}
