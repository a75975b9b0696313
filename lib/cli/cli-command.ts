import type { ApiClient } from '../adapters/api-client';
import type { OperationId } from '../api/routes';

/** Where the CLI writes and what it may use; tests pass their own. */
export interface CliIo {
  /** A line on stdout: results, for people or (with --json) for scripts. */
  out(line: string): void;
  /** A line on stderr: progress and errors. */
  err(line: string): void;
  /**
   * Redraws the one progress line on a terminal (stderr); an empty text clears it. Absent when
   * stderr is not a terminal, where progress is printed a line per change instead.
   */
  progress?: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** @default the global fetch */
  fetch?: typeof fetch;
  sleep(ms: number): Promise<void>;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves with the signal's name when the user asks a foreground command (`up`) to stop. */
  stopRequested(): Promise<string>;
}

/** Flag values as `node:util` parseArgs gives them. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** A flag a verb takes, as parseArgs declares it. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
}

/** What a verb runs with. */
export interface CommandContext {
  io: CliIo;
  values: FlagValues;
  positionals: string[];
  /** --json: one JSON document on stdout, for scripts. */
  json: boolean;
  /** -q/--quiet: only the id of what was made, for `$(…)`. */
  quiet: boolean;
  /** The API client, built from --api, --home and the environment on first use. */
  api(): Promise<ApiClient>;
}

/** One verb of a command noun, e.g. `provision` of `vdb`. */
export interface Verb {
  summary: string;
  /** Its arguments and flags as the usage shows them, e.g. `<vdb-id> --snapshot ID`. */
  usage: string;
  /** The API route it calls, which the usage names. */
  operationId?: OperationId;
  /** Names of its positional arguments, in order, e.g. `['vdb-id']`; all are required. */
  positionals?: readonly string[];
  flags?: Readonly<Record<string, FlagSpec>>;
  /** Whether it calls the API (and so takes --api, --home, --json and --quiet). @default true */
  callsApi?: boolean;
  /** Whether it starts a job (and so takes --no-wait). */
  startsJob?: boolean;
  /** Resolves to the exit code. */
  run(context: CommandContext): Promise<number>;
}

/** A command noun and its verbs, e.g. `vdb`. */
export interface CommandNoun {
  noun: string;
  summary: string;
  verbs: Readonly<Record<string, Verb>>;
}

/** A command without verbs, e.g. `up`. */
export interface SingleCommand {
  noun: string;
  command: Verb;
}

/** Thrown for bad command-line use; its message is shown as is, with the usage. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** The string value of a flag the verb requires. @throws CliError when it is missing */
export function requiredFlag(values: FlagValues, flag: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value === '') throw new CliError(`--${flag} is required`);
  return value;
}

/** The string value of an optional flag. */
export function optionalFlag(values: FlagValues, flag: string): string | undefined {
  const value = values[flag];
  return typeof value === 'string' ? value : undefined;
}
