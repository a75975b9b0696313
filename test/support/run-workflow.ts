import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { vi } from 'vitest';
import { describeCause, UNDO_FAILED_NOTE } from '../../lib/core/error-text';
import type { DocumentKind } from '../../lib/core/host-plan';
import type { EngineApi } from '../../lib/core/ports';
import type { CommandInvocation } from '../../lib/core/steps/raise-host-error';
import type { WorkflowName } from '../../lib/core/workflow-inputs';
import type { Engine } from '../../lib/engine/engine';
import { buildEngineServer } from '../../lib/engine/server';
import { DOCUMENT_KINDS, documentContent } from '../../lib/infra/ssm-documents';
import { HostAgent, type SendCommandRequest, type SendCommandResponse } from '../../lib/local/host-agent';
import type { HostRunner, HostScript, RunningScript } from '../../lib/local/host-runner';
import { LocalWorkflows } from '../../lib/local/local-workflows';
import { type CloudFormationTemplate, resolveTemplate } from '../../lib/local/resolve-template';
import { snapflowTemplate } from './snapflow-template';

type Json = Parameters<LocalWorkflows['run']>[1];

/** One command the workflow sent to a host, as the host agent accepted it. */
export interface SentCommand {
  document: DocumentKind;
  hostId: string;
  parameters: Record<string, string[]>;
}

/** How a scripted host command ends: as an invocation (fields not given are a success's), or never. */
export type HostOutcome = Partial<CommandInvocation> | 'never-ends';

/** The hosts the seeded records of `engine-fixtures` name, and this machine. */
const HOST_IDS = ['i-0source', 'i-0staging', 'i-0target', 'local'];

/**
 * Scripted hosts behind the real host agent: the agent checks each command's parameters against the
 * document's patterns as SSM does, and then, instead of running the script, the host ends it the way
 * `outcomes` says: every command succeeds with empty output unless its document has an outcome; a
 * list gives the outcomes of the document's commands in the order they are sent.
 */
export class FakeHosts {
  /** Commands the agent accepted, in order. */
  readonly sent: SentCommand[] = [];
  /** Commands the agent refused (SSM's InvalidParameters and friends), with its message. */
  readonly refused: { document: DocumentKind; message: string }[] = [];
  /** Documents whose commands were cancelled, in order. */
  readonly cancelled: DocumentKind[] = [];

  constructor(readonly outcomes: Partial<Record<DocumentKind, HostOutcome | HostOutcome[]>> = {}) {}

  get documents(): DocumentKind[] {
    return this.sent.map((command) => command.document);
  }

  /** Ends a script the way its document's next outcome says. */
  readonly runner: HostRunner = {
    start: async (script: HostScript): Promise<RunningScript> => {
      // The host agent runs each command in a directory named after the document's step.
      const step = basename(script.commandDirectory);
      const document = DOCUMENT_KINDS.find((kind) => documentContent(kind).mainSteps[0].name === step);
      if (document === undefined) throw new Error(`No Snapflow document has the step ${step}`);
      const planned = this.outcomes[document];
      const outcome = Array.isArray(planned) ? planned.shift() : planned;
      if (outcome === 'never-ends') {
        let end: (exit: { exitCode: null; signal: NodeJS.Signals }) => void = () => undefined;
        const exited = new Promise<{ exitCode: null; signal: NodeJS.Signals }>((settle) => (end = settle));
        let killed = false;
        return {
          exited,
          kill: () => {
            if (killed) return;
            killed = true;
            this.cancelled.push(document);
            script.stdout.end();
            script.stderr.end();
            end({ exitCode: null, signal: 'SIGTERM' });
          },
        };
      }
      const ending = {
        Status: 'Success',
        ResponseCode: 0,
        StandardOutputContent: '',
        StandardErrorContent: '',
        ...outcome,
      };
      script.stdout.end(ending.StandardOutputContent ?? '');
      script.stderr.end(ending.StandardErrorContent ?? '');
      const exitCode = ending.Status === 'Success' ? 0 : Math.max(1, ending.ResponseCode ?? 1);
      return { exited: Promise.resolve({ exitCode, signal: null }), kill: () => undefined };
    },
  };
}

export type WorkflowResult =
  | { status: 'SUCCEEDED'; output: Json }
  | {
      status: 'FAILED';
      error: string;
      /** The execution's cause as Step Functions has it: for a Lambda error, Lambda's JSON error document. */
      cause: string;
      /** The failing step's own message (the SnapflowError's), read out of the cause. */
      message: string;
    };

/** The output of a run that must have succeeded. */
export function outputOf<T>(result: WorkflowResult): T {
  if (result.status !== 'SUCCEEDED') throw new Error(`The workflow failed with ${result.error}: ${result.cause}`);
  return result.output as T;
}

/** What the workflows run against: set by each {@link runWorkflow}, read by the engine server and the hosts. */
const current: { engine?: EngineApi; hosts?: FakeHosts } = {};

interface Harness {
  workflows: LocalWorkflows;
  agent: HostAgent;
  server: FastifyInstance;
  logDirectory: string;
}

/** One harness per set of {@link RunWorkflowOptions.lambdaTimeouts}, each built on first use. */
const harnesses = new Map<string, Promise<Harness>>();

export interface RunWorkflowOptions {
  /**
   * Lambda `Timeout`s in seconds to run with instead of the stack's, by the function's construct id
   * (e.g. `{ CreateVdb: 1 }`), so that a test can time a step out quickly. The ASL stays as synthesized.
   * @default the stack's timeouts
   */
  lambdaTimeouts?: Record<string, number>;
}

/** The synthesized template with the given functions' `Timeout` changed. */
function templateWithTimeouts(timeouts: Record<string, number>): CloudFormationTemplate {
  type Resource = { Type: string; Properties: Record<string, unknown> };
  const template = structuredClone(snapflowTemplate().template.toJSON()) as { Resources: Record<string, Resource> };
  for (const [constructId, seconds] of Object.entries(timeouts)) {
    const functions = Object.entries(template.Resources).filter(
      ([logicalId, resource]) =>
        resource.Type === 'AWS::Lambda::Function' && new RegExp(`^${constructId}[0-9A-F]{8}$`).test(logicalId),
    );
    const [only] = functions;
    if (only === undefined || functions.length > 1)
      throw new Error(`No one function has the construct id ${constructId}`);
    only[1].Properties.Timeout = seconds;
  }
  return template;
}

/**
 * A host agent that records what it accepted and refused for the current {@link FakeHosts}: the
 * workflow's SendCommand requests, checked by the agent's real parameter rules.
 */
class RecordingHostAgent extends HostAgent {
  override async sendCommand(request: SendCommandRequest): Promise<SendCommandResponse> {
    const hosts = current.hosts as FakeHosts;
    const kind = snapflowTemplate().resolved.documents[request.DocumentName]?.kind as DocumentKind;
    try {
      const response = await super.sendCommand(request);
      hosts.sent.push({ document: kind, hostId: request.InstanceIds[0] ?? '', parameters: request.Parameters ?? {} });
      return response;
    } catch (error) {
      hosts.refused.push({ document: kind, message: (error as Error).message });
      throw error;
    }
  }
}

/**
 * The stack's workflows as local mode runs them, built once per test file: the synthesized ASL in the
 * interpreter, every Lambda task through its real handler module and middleware (so causes come back
 * in Lambda's error shape), the handlers reaching the engine over HTTP through the real engine client
 * and server, and every Run Command through the real host agent onto {@link FakeHosts}. The engine
 * behind the server is the test's own (a FakeEngine), swapped per run.
 */
async function startHarness(template: CloudFormationTemplate): Promise<Harness> {
  const token = 'workflow-test-token';
  const served = new Proxy({} as EngineApi & Pick<Engine, 'health'>, {
    get(_, property) {
      if (property === 'health') {
        return async () => ({
          status: 'ok',
          backend: { kind: 'dir', reason: 'a test engine' },
          inconsistencies: [],
          quarantined: [],
        });
      }
      const engine = current.engine;
      if (engine === undefined) throw new Error('No engine is set for the workflow test');
      const value: unknown = Reflect.get(engine, property);
      return typeof value === 'function' ? value.bind(engine) : value;
    },
  });
  const server = await buildEngineServer({ engine: served, token });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;
  const logDirectory = await mkdtemp(join(tmpdir(), 'snapflow-workflow-test-'));
  const dispatch: HostRunner = { start: (script) => (current.hosts as FakeHosts).runner.start(script) };
  const resolved = resolveTemplate(template);
  const agent = new RecordingHostAgent({
    documents: resolved.documents,
    hosts: Object.fromEntries(HOST_IDS.map((id) => [id, dispatch])),
    logDirectory,
    // Scripted commands end at once; one that never ends is polled to the fragment's bound quickly.
    pollWaitMs: 5,
  });
  const workflows = new LocalWorkflows(resolved, {
    repoRoot: resolve(__dirname, '..', '..'),
    hostAgent: agent,
    environment: { ENGINE_URL: `http://127.0.0.1:${port}`, ENGINE_TOKEN: token },
  });
  return { workflows, agent, server, logDirectory };
}

/**
 * Runs one of the stack's workflows, exactly as synthesized and as local mode runs it (see
 * {@link startHarness}), against `engine` and `hosts`. The handlers tell the real time.
 */
export async function runWorkflow(
  workflow: WorkflowName,
  input: Json,
  { engine }: { engine: EngineApi },
  hosts: FakeHosts,
  { lambdaTimeouts = {} }: RunWorkflowOptions = {},
): Promise<WorkflowResult> {
  const key = JSON.stringify(lambdaTimeouts);
  let harness = harnesses.get(key);
  if (harness === undefined) {
    harness = startHarness(templateWithTimeouts(lambdaTimeouts));
    harnesses.set(key, harness);
  }
  const { workflows } = await harness;
  current.engine = engine;
  current.hosts = hosts;
  // The middleware logs each failing step on stderr, as on Lambda; the result carries the error.
  const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const run = await workflows.run(workflow, input);
    if (run.status === 'SUCCEEDED') return { status: 'SUCCEEDED', output: run.output ?? null };
    const error = run.error?.name ?? run.status;
    const cause = run.error?.cause ?? '';
    return { status: 'FAILED', error, cause, message: messageOf(cause) };
  } finally {
    quiet.mockRestore();
    current.engine = undefined;
    current.hosts = undefined;
  }
}

/** Stops the engine servers and the host agents of this test file's workflows. */
export async function closeWorkflows(): Promise<void> {
  const started = [...harnesses.values()];
  harnesses.clear();
  for (const harness of started) {
    const { server, agent, logDirectory } = await harness;
    await agent.close();
    await server.close();
    await rm(logDirectory, { recursive: true, force: true });
  }
}

/** A failed step's own message, without the note of a failed undo step appended to the cause. */
function messageOf(cause: string): string {
  return describeCause(cause.split(UNDO_FAILED_NOTE)[0] ?? cause).message;
}
