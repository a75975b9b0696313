import { parseArgs } from 'node:util';
import type { ApiClient } from '../adapters/api-client';
import { routeByOperation } from '../api/routes';
import { isSnapflowError } from '../core/errors';
import { BACKEND_USAGE, backendFlag } from './backend-flag';
import {
  CliError,
  type CliIo,
  type CommandContext,
  type CommandNoun,
  type FlagSpec,
  type SingleCommand,
  type Verb,
} from './cli-command';
import { dsourceCommand } from './commands/dsource';
import { environmentCommand } from './commands/environment';
import { eventCommand } from './commands/event';
import { jobCommand } from './commands/job';
import { snapshotCommand } from './commands/snapshot';
import { sourceConfigCommand } from './commands/source-config';
import { timeflowCommand } from './commands/timeflow';
import { upCommand } from './commands/up';
import { vdbCommand } from './commands/vdb';
import { connectApi } from './connect-api';
import { runDemo } from './demo';

/** Every command, in the order the usage lists them. */
export const commands: readonly (CommandNoun | SingleCommand)[] = [
  upCommand,
  environmentCommand,
  sourceConfigCommand,
  dsourceCommand,
  vdbCommand,
  snapshotCommand,
  timeflowCommand,
  eventCommand,
  jobCommand,
];

/** Flags of every command that calls the API. */
const API_FLAGS: Readonly<Record<string, FlagSpec>> = {
  api: { type: 'string' },
  home: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
};

const GLOBAL_USAGE = `Options of the commands that call the API:
  --api URL     the API: a local one, or an API Gateway stage URL (requests are then SigV4-signed
                with the AWS SDK's default credentials); default SNAPFLOW_API_URL, else the local
                API that \`snapflow up\` runs for --home
  --home DIR    local-mode home; default SNAPFLOW_HOME, else ~/.snapflow
  --json        print the API's JSON, for scripts
  -q, --quiet   print only the id of what was made (the job's, with --no-wait)
  --no-wait     commands that start a job: print the job and return at once, instead of following
                it to its end (exit code 1 when it fails)
The local API's token comes from SNAPFLOW_API_TOKEN, else from <home>/api.json.`;

/** The usage text: every command, or one noun's verbs. */
export function usage(noun?: CommandNoun | SingleCommand): string {
  const lines = ['Usage: snapflow <command> [options]', ''];
  const shown = noun === undefined ? commands : [noun];
  if (noun === undefined) {
    lines.push(`  demo ${BACKEND_USAGE} [--keep]`);
    lines.push('      Run the whole job on the embedded engine and check the integrity of every dataset.');
  }
  for (const command of shown) {
    const verbs = 'command' in command ? [['', command.command] as const] : Object.entries(command.verbs);
    for (const [verb, spec] of verbs) {
      const route = spec.operationId === undefined ? undefined : routeByOperation(spec.operationId);
      lines.push(`  ${[command.noun, verb, spec.usage].filter((part) => part !== '').join(' ')}`);
      lines.push(`      ${spec.summary}${route === undefined ? '' : ` (${route.method} ${route.path})`}`);
    }
  }
  lines.push('', GLOBAL_USAGE);
  return lines.join('\n');
}

/**
 * Runs the CLI with `argv` (without node and script) and resolves to the process exit code: 0 when
 * done, 1 when the API or a job failed (its message and action on stderr, never a stack trace), 2 for
 * bad command-line use.
 */
export async function main(
  argv: readonly string[],
  out: (line: string) => void,
  err: (line: string) => void,
  io: Partial<Omit<CliIo, 'out' | 'err'>> = {},
): Promise<number> {
  const cli: CliIo = {
    out,
    err,
    env: process.env,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
    stopRequested: () => new Promise(() => undefined),
    ...io,
  };
  const [noun, ...rest] = argv;
  const command = commands.find((candidate) => candidate.noun === noun);
  try {
    switch (noun) {
      case 'demo':
        return (await demo(rest, out)) === 0 ? 0 : 1;
      case undefined:
      case 'help':
      case '--help':
        out(usage());
        return 0;
      default:
        if (command === undefined) throw new CliError(`unknown command ${JSON.stringify(noun)}`);
        return await runCommand(command, rest, cli);
    }
  } catch (error) {
    if (error instanceof CliError || isParseArgsError(error)) {
      err(`snapflow: ${error.message}\n\n${usage(command)}`);
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

async function runCommand(command: CommandNoun | SingleCommand, args: string[], io: CliIo): Promise<number> {
  let verb: Verb | undefined;
  let flagArgs = args;
  if ('command' in command) {
    verb = command.command;
  } else {
    const [name, ...rest] = args;
    if (name === undefined || name === 'help' || name === '--help') {
      io.out(usage(command));
      return name === undefined ? 2 : 0;
    }
    verb = command.verbs[name];
    if (verb === undefined) throw new CliError(`${command.noun} has no verb ${JSON.stringify(name)}`);
    flagArgs = rest;
  }

  const callsApi = verb.callsApi !== false;
  const options: Record<string, FlagSpec> = {
    ...verb.flags,
    ...(callsApi ? API_FLAGS : {}),
    ...(verb.startsJob === true ? { 'no-wait': { type: 'boolean' } } : {}),
  };
  const { values, positionals } = parseArgs({ args: flagArgs, options, allowPositionals: true, strict: true });
  const expected = verb.positionals ?? [];
  if (positionals.length !== expected.length) {
    throw new CliError(
      expected.length === 0
        ? `unexpected argument ${JSON.stringify(positionals[0])}`
        : `expected ${expected.map((name) => `<${name}>`).join(' ')}`,
    );
  }
  let client: Promise<ApiClient> | undefined;
  const context: CommandContext = {
    io,
    values,
    positionals,
    json: values.json === true,
    quiet: values.quiet === true,
    api: () => {
      client ??= connectApi({
        env: io.env,
        ...(typeof values.api === 'string' ? { url: values.api } : {}),
        ...(typeof values.home === 'string' ? { home: values.home } : {}),
        ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
      });
      return client;
    },
  };
  return verb.run(context);
}

function isParseArgsError(error: unknown): error is Error {
  return error instanceof Error && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
}

function demo(args: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { backend: { type: 'string' }, keep: { type: 'boolean', default: false } },
    strict: true,
  });
  return runDemo({ backend: backendFlag(values.backend), keep: values.keep, out });
}
