import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import type { HostRunner, RunningScript, ScriptExit } from './host-runner';
import type { SsmDocument, SsmDocumentStep } from './resolve-template';

/**
 * The errors the host agent answers with, named as Step Functions names the errors of the
 * `aws-sdk:ssm:*` integrations, so that the same Retry and Catch match locally and on AWS.
 */
export const SsmErrorNames = {
  InvalidParameters: 'Ssm.InvalidParametersException',
  InvalidDocument: 'Ssm.InvalidDocumentException',
  InvalidInstanceId: 'Ssm.InvalidInstanceIdException',
  InvocationDoesNotExist: 'Ssm.InvocationDoesNotExistException',
  InvalidCommandId: 'Ssm.InvalidCommandIdException',
  InvalidPluginName: 'Ssm.InvalidPluginNameException',
} as const;

export type SsmErrorName = (typeof SsmErrorNames)[keyof typeof SsmErrorNames];

/** An SSM API error, as a Step Functions SDK integration reports it. */
export class SsmServiceError extends Error {
  override readonly name: SsmErrorName;

  constructor(name: SsmErrorName, message: string) {
    super(message);
    this.name = name;
  }
}

/** `SendCommand`'s request, as far as the host agent uses it. */
export interface SendCommandRequest {
  DocumentName: string;
  InstanceIds: string[];
  Parameters?: Record<string, string[]>;
  Comment?: string;
  /** SSM's delivery timeout. Delivery is immediate here, so it is only echoed back. */
  TimeoutSeconds?: number;
  CloudWatchOutputConfig?: { CloudWatchOutputEnabled?: boolean; CloudWatchLogGroupName?: string };
}

export type CommandStatus = 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelled';

/** `SendCommand`'s response. */
export interface SendCommandResponse {
  Command: {
    CommandId: string;
    DocumentName: string;
    DocumentVersion: string;
    Comment: string;
    Parameters: Record<string, string[]>;
    InstanceIds: string[];
    RequestedDateTime: string;
    Status: 'Pending';
    StatusDetails: 'Pending';
    TimeoutSeconds?: number;
    TargetCount: number;
    CompletedCount: number;
    ErrorCount: number;
    CloudWatchOutputConfig: { CloudWatchOutputEnabled: boolean; CloudWatchLogGroupName: string };
  };
}

export interface GetCommandInvocationRequest {
  CommandId: string;
  InstanceId: string;
  PluginName?: string;
}

/** `GetCommandInvocation`'s response. */
export interface CommandInvocation {
  CommandId: string;
  InstanceId: string;
  Comment: string;
  DocumentName: string;
  DocumentVersion: string;
  PluginName: string;
  /** The script's exit code; -1 while it runs and when it timed out or was cancelled. */
  ResponseCode: number;
  ExecutionStartDateTime: string;
  ExecutionElapsedTime: string;
  ExecutionEndDateTime: string;
  Status: CommandStatus;
  StatusDetails: string;
  /** The first 24,000 characters of stdout; the whole of it is in {@link HostAgent.outputFiles}. */
  StandardOutputContent: string;
  StandardOutputUrl: string;
  /** The first 8,000 characters of stderr. */
  StandardErrorContent: string;
  StandardErrorUrl: string;
  CloudWatchOutputConfig: { CloudWatchOutputEnabled: boolean; CloudWatchLogGroupName: string };
}

export interface CancelCommandRequest {
  CommandId: string;
  InstanceIds?: string[];
}

export interface HostAgentOptions {
  /** The documents it can run, by name. */
  documents: Record<string, SsmDocument>;
  /** The hosts it can reach, by instance id (`local` for this machine). */
  hosts: Record<string, HostRunner>;
  /**
   * Finds a host that is not in {@link hosts} when a command is sent to it, e.g. an SSH host registered
   * with the engine since the agent started. Answers undefined for an unknown host.
   */
  resolveHost?: (instanceId: string) => Promise<HostRunner | undefined>;
  /** Where each command's script, stdout and stderr are kept: the local analogue of CloudWatch Logs. */
  logDirectory: string;
  /**
   * How long `getCommandInvocation` waits for a running command to end before it answers
   * `InProgress`, so that a poll loop whose Wait states are overridden to 0 ms does not spin.
   * @default 1000
   */
  pollWaitMs?: number;
  /**
   * How long a command stays answerable once all its invocations have ended; after that it is
   * forgotten (its output files stay in the log directory), so a long-running agent does not grow.
   * @default 1 hour
   */
  retainFinishedMs?: number;
  /**
   * The most ended commands kept at once; beyond it the ones that ended first are forgotten early.
   * Commands still running are always kept.
   * @default 1000
   */
  maxFinishedCommands?: number;
  /** Tells the time in milliseconds, for the retention above. @default Date.now */
  now?: () => number;
}

const STDOUT_LIMIT = 24_000;
const STDERR_LIMIT = 8_000;
/** SSM's `timeoutSeconds` when a step does not set one. */
const DEFAULT_STEP_TIMEOUT_SECONDS = 3600;
const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;
const DEFAULT_RETAIN_FINISHED_MS = 3_600_000;
const DEFAULT_MAX_FINISHED_COMMANDS = 1000;
/** Given to scripts as `AWS_SSM_REGION_NAME`, as the SSM agent does: the region local mode's ARNs name. */
const SCRIPT_REGION = 'us-east-1';

/** One command: its invocation on each host, and when the last of them ended. */
interface CommandRecord {
  invocations: Map<string, Invocation>;
  finishedAt?: number;
}

interface Invocation {
  commandId: string;
  instanceId: string;
  request: SendCommandRequest;
  document: SsmDocument;
  step: SsmDocumentStep;
  directory: string;
  status: CommandStatus;
  statusDetails: string;
  responseCode: number;
  startedAt?: Date;
  endedAt?: Date;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  cancelRequested: boolean;
  script?: RunningScript;
  /** Settles (never rejects) when the invocation has reached a final status. */
  done: Promise<void>;
}

/**
 * Runs SSM Command documents on hosts and answers in SSM's shapes: the local stand-in for
 * `SendCommand`, `GetCommandInvocation` and `CancelCommand`. Before anything runs it enforces each
 * document's parameter rules as SSM does; values then reach a script only through the document's own
 * `{{ Name }}` substitution, so the `allowedPattern`s guard the scripts here exactly as on AWS. Like
 * SSM, it forgets ended commands after a while (see {@link HostAgentOptions.retainFinishedMs}), so that
 * a long-running `snapflow up` keeps a bounded number in memory.
 */
export class HostAgent {
  private readonly documents: Record<string, SsmDocument>;
  private readonly hosts: Record<string, HostRunner>;
  private readonly resolveHost?: (instanceId: string) => Promise<HostRunner | undefined>;
  private readonly logDirectory: string;
  private readonly pollWaitMs: number;
  private readonly retainFinishedMs: number;
  private readonly maxFinishedCommands: number;
  private readonly now: () => number;
  private readonly commands = new Map<string, CommandRecord>();
  private closed = false;

  /** @throws Error naming the document when one cannot be run here (see {@link checkDocument}). */
  constructor(options: HostAgentOptions) {
    for (const document of Object.values(options.documents)) checkDocument(document);
    this.documents = options.documents;
    this.hosts = options.hosts;
    this.resolveHost = options.resolveHost;
    this.logDirectory = options.logDirectory;
    this.pollWaitMs = options.pollWaitMs ?? 1000;
    this.retainFinishedMs = options.retainFinishedMs ?? DEFAULT_RETAIN_FINISHED_MS;
    this.maxFinishedCommands = options.maxFinishedCommands ?? DEFAULT_MAX_FINISHED_COMMANDS;
    this.now = options.now ?? Date.now;
  }

  /** How many commands the agent still answers for, running or ended. */
  get commandCount(): number {
    return this.commands.size;
  }

  /**
   * Validates the request, starts the document's script on each host and answers at once with
   * status `Pending`.
   * @throws SsmServiceError `Ssm.InvalidDocumentException`, `Ssm.InvalidInstanceIdException` or
   * `Ssm.InvalidParametersException`, before anything runs.
   */
  async sendCommand(request: SendCommandRequest): Promise<SendCommandResponse> {
    if (this.closed) throw new Error('The host agent is closed');
    const documentName = String(request.DocumentName).replace(/^arn:[^:]+:ssm:[^:]*:[^:]*:document\//, '');
    const document = this.documents[documentName];
    if (document === undefined) {
      throw new SsmServiceError(SsmErrorNames.InvalidDocument, `Document ${documentName} does not exist`);
    }
    const instanceIds = request.InstanceIds;
    if (!Array.isArray(instanceIds) || instanceIds.length === 0) {
      throw new SsmServiceError(SsmErrorNames.InvalidInstanceId, 'InstanceIds must name at least one host');
    }
    const runners = new Map<string, HostRunner>();
    for (const instanceId of instanceIds) {
      const runner =
        typeof instanceId === 'string' ? (this.hosts[instanceId] ?? (await this.resolveHost?.(instanceId))) : undefined;
      if (runner === undefined) {
        throw new SsmServiceError(
          SsmErrorNames.InvalidInstanceId,
          `Host ${JSON.stringify(instanceId)} is not known to the host agent; known hosts: ${Object.keys(this.hosts).join(', ')}` +
            (this.resolveHost === undefined ? '' : ', and the hosts registered with the engine'),
        );
      }
      runners.set(instanceId, runner);
    }
    const values = parameterValues(document, request.Parameters);
    const step = document.content.mainSteps[0] as SsmDocumentStep;
    const timeoutSeconds = stepTimeoutSeconds(step, values);

    this.forgetOldCommands();
    const commandId = randomUUID();
    const requestedAt = new Date();
    const invocations = new Map<string, Invocation>();
    const record: CommandRecord = { invocations };
    this.commands.set(commandId, record);
    for (const instanceId of instanceIds) {
      const directory = join(this.logDirectory, commandId, instanceId, 'awsrunShellScript', step.name);
      await mkdir(directory, { recursive: true });
      const invocation: Invocation = {
        commandId,
        instanceId,
        request,
        document,
        step,
        directory,
        status: 'Pending',
        statusDetails: 'Pending',
        responseCode: -1,
        stdout: new CapturedOutput(join(directory, 'stdout'), STDOUT_LIMIT),
        stderr: new CapturedOutput(join(directory, 'stderr'), STDERR_LIMIT),
        cancelRequested: false,
        done: Promise.resolve(),
      };
      invocation.done = this.execute(invocation, runners.get(instanceId) as HostRunner, values, timeoutSeconds).then(
        () => {
          if ([...invocations.values()].every((each) => isFinal(each.status))) record.finishedAt = this.now();
        },
      );
      invocations.set(instanceId, invocation);
    }

    return {
      Command: {
        CommandId: commandId,
        DocumentName: documentName,
        DocumentVersion: '1',
        Comment: request.Comment ?? '',
        Parameters: request.Parameters ?? {},
        InstanceIds: [...instanceIds],
        RequestedDateTime: requestedAt.toISOString(),
        Status: 'Pending',
        StatusDetails: 'Pending',
        ...(request.TimeoutSeconds === undefined ? {} : { TimeoutSeconds: request.TimeoutSeconds }),
        TargetCount: instanceIds.length,
        CompletedCount: 0,
        ErrorCount: 0,
        CloudWatchOutputConfig: cloudWatchOutputConfig(request),
      },
    };
  }

  /**
   * Answers with the invocation's status and output. While the script runs, waits up to
   * `pollWaitMs` for it to end first.
   * @throws SsmServiceError `Ssm.InvocationDoesNotExistException` for an unknown command or host,
   * `Ssm.InvalidPluginNameException` for a step the document does not have.
   */
  async getCommandInvocation(request: GetCommandInvocationRequest): Promise<CommandInvocation> {
    const invocation = this.invocation(request.CommandId, request.InstanceId);
    if (request.PluginName !== undefined && request.PluginName !== invocation.step.name) {
      throw new SsmServiceError(
        SsmErrorNames.InvalidPluginName,
        `Document ${invocation.document.name} has no step ${request.PluginName}; its step is ${invocation.step.name}`,
      );
    }
    if (!isFinal(invocation.status)) await settledWithin(invocation.done, this.pollWaitMs);
    return describe(invocation);
  }

  /**
   * Waits for the command's invocation on `instanceId` to end, however long that takes, and answers as
   * `getCommandInvocation` then would: for a caller on this machine that needs a command's end, where
   * a workflow polls.
   * @throws SsmServiceError `Ssm.InvocationDoesNotExistException` for an unknown command or host
   */
  async waitForCommand(commandId: string, instanceId: string): Promise<CommandInvocation> {
    const invocation = this.invocation(commandId, instanceId);
    await invocation.done;
    return describe(invocation);
  }

  /**
   * Kills the command's scripts (on the given hosts, or all of them); they end as `Cancelled`.
   * Commands that have already ended are left as they are, as in SSM.
   * @throws SsmServiceError `Ssm.InvalidCommandIdException` for an unknown command.
   */
  async cancelCommand(request: CancelCommandRequest): Promise<Record<string, never>> {
    const invocations = this.commands.get(request.CommandId)?.invocations;
    if (invocations === undefined) {
      throw new SsmServiceError(SsmErrorNames.InvalidCommandId, `No command ${request.CommandId}`);
    }
    const instanceIds = request.InstanceIds ?? [...invocations.keys()];
    for (const instanceId of instanceIds) {
      const invocation = invocations.get(instanceId);
      if (invocation === undefined) {
        throw new SsmServiceError(
          SsmErrorNames.InvalidInstanceId,
          `Command ${request.CommandId} was not sent to host ${instanceId}`,
        );
      }
      cancel(invocation);
    }
    return {};
  }

  /** The files holding the whole stdout and stderr of one invocation. */
  outputFiles(commandId: string, instanceId: string): { stdout: string; stderr: string } {
    const invocation = this.commands.get(commandId)?.invocations.get(instanceId);
    if (invocation === undefined) throw new Error(`No invocation of command ${commandId} on host ${instanceId}`);
    return { stdout: invocation.stdout.file, stderr: invocation.stderr.file };
  }

  /** Kills every script still running and waits for them to end; later commands are refused. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.commands.values()].flatMap((command) => [...command.invocations.values()]);
    for (const invocation of all) cancel(invocation);
    await Promise.all(all.map((invocation) => invocation.done));
  }

  private invocation(commandId: string, instanceId: string): Invocation {
    const invocation = this.commands.get(commandId)?.invocations.get(instanceId);
    if (invocation === undefined) {
      throw new SsmServiceError(
        SsmErrorNames.InvocationDoesNotExist,
        `No invocation of command ${commandId} on host ${instanceId}`,
      );
    }
    return invocation;
  }

  /**
   * Forgets commands that ended longer than `retainFinishedMs` ago, then, beyond `maxFinishedCommands`
   * ended ones, those that ended first; as SSM forgets old invocations, they then do not exist.
   */
  private forgetOldCommands(): void {
    const finished = [...this.commands.entries()]
      .filter((entry): entry is [string, CommandRecord & { finishedAt: number }] => entry[1].finishedAt !== undefined)
      .sort(([, a], [, b]) => a.finishedAt - b.finishedAt);
    const expiredBefore = this.now() - this.retainFinishedMs;
    const excess = finished.length - this.maxFinishedCommands;
    finished.forEach(([commandId, command], index) => {
      if (index < excess || command.finishedAt <= expiredBefore) this.commands.delete(commandId);
    });
  }

  private async execute(
    invocation: Invocation,
    runner: HostRunner,
    values: Record<string, string>,
    timeoutSeconds: number,
  ): Promise<void> {
    const { step, stdout, stderr } = invocation;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let exit: ScriptExit;
    try {
      const workingDirectory = step.inputs.workingDirectory;
      invocation.script = await runner.start({
        text: `${step.inputs.runCommand.map((line) => substitute(line, values)).join('\n')}\n`,
        commandDirectory: invocation.directory,
        ...(workingDirectory === undefined ? {} : { workingDirectory: substitute(workingDirectory, values) }),
        environment: this.scriptEnvironment(invocation.instanceId),
        stdout,
        stderr,
      });
      invocation.startedAt = new Date();
      invocation.status = 'InProgress';
      invocation.statusDetails = 'InProgress';
      if (invocation.cancelRequested) invocation.script.kill();
      timer = setTimeout(() => {
        timedOut = true;
        invocation.script?.kill();
      }, timeoutSeconds * 1000);
      exit = await invocation.script.exited;
    } catch (error) {
      stderr.endWith(`The host agent could not run the script: ${(error as Error).message}\n`);
      stdout.endWith('');
      exit = { exitCode: null, signal: null };
    } finally {
      clearTimeout(timer);
    }
    await Promise.all([finished(stdout), finished(stderr)]).catch(() => undefined);
    invocation.startedAt ??= new Date();
    invocation.endedAt = new Date();
    settle(invocation, exit, timedOut);
  }

  private scriptEnvironment(instanceId: string): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ...(process.env.HOME === undefined ? {} : { HOME: process.env.HOME }),
      AWS_SSM_INSTANCE_ID: instanceId,
      AWS_SSM_REGION_NAME: SCRIPT_REGION,
    };
  }
}

/**
 * Checks that the host agent can run a document exactly as SSM would: schema 2.2, one
 * `aws:runShellScript` step, String parameters whose defaults pass their own rules, and no
 * `{{ … }}` reference to an undeclared parameter.
 * @throws Error naming the document and what is wrong with it.
 */
export function checkDocument(document: SsmDocument): void {
  const { name, content } = document;
  const fail = (problem: string): never => {
    throw new Error(`SSM document ${name} cannot run on the host agent: ${problem}`);
  };
  if (content.schemaVersion !== '2.2') fail(`schemaVersion is ${content.schemaVersion}, expected 2.2`);
  const [step, ...others] = content.mainSteps ?? [];
  if (step === undefined || others.length > 0) fail('it must have exactly one step');
  const only = step as SsmDocumentStep;
  if (only.action !== 'aws:runShellScript') fail(`step ${only.name} is ${only.action}, expected aws:runShellScript`);
  if (!Array.isArray(only.inputs?.runCommand) || only.inputs.runCommand.some((line) => typeof line !== 'string')) {
    fail(`step ${only.name} needs runCommand as a list of strings`);
  }
  const parameters = content.parameters ?? {};
  for (const [parameter, definition] of Object.entries(parameters)) {
    if (definition.type !== 'String')
      fail(`parameter ${parameter} is of type ${definition.type}; only String is supported`);
    if (definition.allowedPattern !== undefined) new RegExp(definition.allowedPattern);
    if (definition.default !== undefined) {
      const problem = valueProblem(parameter, definition.default, definition);
      if (problem !== undefined) fail(`the default of ${problem}`);
    }
  }
  const texts = [
    ...only.inputs.runCommand,
    String(only.inputs.timeoutSeconds ?? ''),
    only.inputs.workingDirectory ?? '',
  ];
  for (const text of texts) {
    for (const [, reference] of text.matchAll(PLACEHOLDER)) {
      if (parameters[reference as string] === undefined) fail(`{{ ${reference} }} is not a declared parameter`);
    }
  }
}

/** The value of every declared parameter, after SSM's checks on what the request supplied. */
function parameterValues(document: SsmDocument, supplied: unknown): Record<string, string> {
  const invalid = (message: string): never => {
    throw new SsmServiceError(SsmErrorNames.InvalidParameters, `${message} (document ${document.name})`);
  };
  const definitions = document.content.parameters ?? {};
  if (supplied !== undefined && (supplied === null || typeof supplied !== 'object' || Array.isArray(supplied))) {
    invalid('Parameters must map parameter names to lists of values');
  }
  const given = (supplied ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (definitions[name] === undefined) {
      const known = Object.keys(definitions);
      invalid(`Parameter "${name}" is not defined; the document's parameters are: ${known.join(', ') || 'none'}`);
    }
  }
  const values: Record<string, string> = {};
  for (const [name, definition] of Object.entries(definitions)) {
    const list = given[name];
    if (list === undefined) {
      if (definition.default === undefined) invalid(`Parameter "${name}" is required and has no default`);
      values[name] = definition.default as string;
      continue;
    }
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) {
      invalid(`Parameter "${name}" must be a list of strings`);
    }
    const strings = list as string[];
    if (strings.length !== 1)
      invalid(`Parameter "${name}" is a String and takes exactly one value, got ${strings.length}`);
    const value = strings[0] as string;
    const problem = valueProblem(name, value, definition);
    if (problem !== undefined) invalid(`Parameter ${problem}`);
    values[name] = value;
  }
  return values;
}

function valueProblem(
  name: string,
  value: string,
  definition: { allowedPattern?: string; allowedValues?: string[] },
): string | undefined {
  if (definition.allowedValues !== undefined && !definition.allowedValues.includes(value)) {
    return `"${name}" value ${JSON.stringify(value)} is not one of the allowed values: ${definition.allowedValues.join(', ')}`;
  }
  if (definition.allowedPattern !== undefined && !new RegExp(definition.allowedPattern).test(value)) {
    return `"${name}" value ${JSON.stringify(value)} does not match the allowed pattern ${definition.allowedPattern}`;
  }
  return undefined;
}

function substitute(text: string, values: Record<string, string>): string {
  // A replacer function, so that `$&` and friends in a value stay literal.
  return text.replace(PLACEHOLDER, (_, name: string) => values[name] as string);
}

function stepTimeoutSeconds(step: SsmDocumentStep, values: Record<string, string>): number {
  const raw = step.inputs.timeoutSeconds;
  if (raw === undefined) return DEFAULT_STEP_TIMEOUT_SECONDS;
  const seconds = Number(typeof raw === 'string' ? substitute(raw, values) : raw);
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new SsmServiceError(
      SsmErrorNames.InvalidParameters,
      `Step ${step.name} timeoutSeconds ${JSON.stringify(raw)} is not a whole number of seconds`,
    );
  }
  return seconds;
}

function cancel(invocation: Invocation): void {
  if (isFinal(invocation.status)) return;
  invocation.cancelRequested = true;
  invocation.script?.kill();
}

function settle(invocation: Invocation, exit: ScriptExit, timedOut: boolean): void {
  const [status, statusDetails, responseCode]: [CommandStatus, string, number] = invocation.cancelRequested
    ? ['Cancelled', 'Cancelled', -1]
    : timedOut
      ? ['TimedOut', 'ExecutionTimedOut', -1]
      : exit.exitCode === 0
        ? ['Success', 'Success', 0]
        : ['Failed', 'Failed', exit.exitCode ?? -1];
  invocation.status = status;
  invocation.statusDetails = statusDetails;
  invocation.responseCode = responseCode;
}

function isFinal(status: CommandStatus): boolean {
  return status !== 'Pending' && status !== 'InProgress';
}

function describe(invocation: Invocation): CommandInvocation {
  const { startedAt, endedAt } = invocation;
  const elapsedMs = startedAt === undefined ? undefined : (endedAt ?? new Date()).getTime() - startedAt.getTime();
  return {
    CommandId: invocation.commandId,
    InstanceId: invocation.instanceId,
    Comment: invocation.request.Comment ?? '',
    DocumentName: invocation.document.name,
    DocumentVersion: '1',
    PluginName: invocation.step.name,
    ResponseCode: invocation.responseCode,
    ExecutionStartDateTime: startedAt?.toISOString() ?? '',
    ExecutionElapsedTime: elapsedMs === undefined ? '' : `PT${(elapsedMs / 1000).toFixed(3)}S`,
    ExecutionEndDateTime: endedAt?.toISOString() ?? '',
    Status: invocation.status,
    StatusDetails: invocation.statusDetails,
    StandardOutputContent: invocation.stdout.content(),
    StandardOutputUrl: '',
    StandardErrorContent: invocation.stderr.content(),
    StandardErrorUrl: '',
    CloudWatchOutputConfig: cloudWatchOutputConfig(invocation.request),
  };
}

function cloudWatchOutputConfig(request: SendCommandRequest): CommandInvocation['CloudWatchOutputConfig'] {
  return {
    CloudWatchOutputEnabled: request.CloudWatchOutputConfig?.CloudWatchOutputEnabled ?? false,
    CloudWatchLogGroupName: request.CloudWatchOutputConfig?.CloudWatchLogGroupName ?? '',
  };
}

async function settledWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * A script's output stream: kept whole in a file, and the first `limit` characters in memory. It
 * never fails: a file that cannot be written is reported in the content rather than crashing the agent.
 */
class CapturedOutput extends Writable {
  readonly file: string;
  private readonly limit: number;
  private readonly decoder = new StringDecoder('utf8');
  private readonly sink: WriteStream;
  private head = '';
  private sinkError: Error | undefined;

  constructor(file: string, limit: number) {
    super();
    this.file = file;
    this.limit = limit;
    this.sink = createWriteStream(file);
    this.sink.on('error', (error) => {
      this.sinkError ??= error;
    });
  }

  content(): string {
    const head = this.head.slice(0, this.limit);
    return this.sinkError === undefined ? head : `${head}\n[not saved to ${this.file}: ${this.sinkError.message}]`;
  }

  /** Ends the stream with `text`, or only records `text` when the runner has already ended it. */
  endWith(text: string): void {
    if (this.writableEnded) this.head += text;
    else this.end(text);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (this.head.length < this.limit) this.head += this.decoder.write(chunk);
    if (this.sink.destroyed) callback();
    else this.sink.write(chunk, () => callback());
  }

  override _final(callback: () => void): void {
    if (this.head.length < this.limit) this.head += this.decoder.end();
    if (this.sink.destroyed) callback();
    else this.sink.end(() => callback());
  }
}
