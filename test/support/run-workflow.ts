import '../../lib/local/polyfills';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { DocumentKind } from '../../lib/core/host-plan';
import { configureVdb } from '../../lib/core/steps/configure-vdb';
import { createDSource } from '../../lib/core/steps/create-dsource';
import { createVdb } from '../../lib/core/steps/create-vdb';
import { deleteDSource } from '../../lib/core/steps/delete-dsource';
import { deleteVdb } from '../../lib/core/steps/delete-vdb';
import { planProvision } from '../../lib/core/steps/plan-provision';
import { planSync } from '../../lib/core/steps/plan-sync';
import { type CommandInvocation, raiseHostError } from '../../lib/core/steps/raise-host-error';
import { recordSnapshot } from '../../lib/core/steps/record-snapshot';
import type { StepPorts } from '../../lib/core/steps/step-ports';
import { validateLink } from '../../lib/core/steps/validate-link';
import { listStates } from '../../lib/local/list-states';
import { functionIdFromReference, stateMachineIdFromArn } from '../../lib/local/resolve-template';
import { snapflowTemplate } from './snapflow-template';

type Json = Parameters<StateMachine['run']>[0];
// biome-ignore lint/suspicious/noExplicitAny: each step checks or trusts its own input, as its handler does
type Step = (input: any, ports: StepPorts) => Promise<unknown>;

/** The core step behind each handler module, called with the test's ports instead of the engine client. */
const STEPS: Record<string, Step> = {
  'functions/validate-link.ts': validateLink,
  'functions/create-dsource.ts': createDSource,
  'functions/delete-dsource.ts': deleteDSource,
  'functions/plan-sync.ts': planSync,
  'functions/record-snapshot.ts': recordSnapshot,
  'functions/plan-provision.ts': planProvision,
  'functions/create-vdb.ts': createVdb,
  'functions/configure-vdb.ts': configureVdb,
  'functions/delete-vdb.ts': deleteVdb,
  'functions/raise-host-error.ts': raiseHostError,
};

/** One command the workflow sent to a host. */
export interface SentCommand {
  document: DocumentKind;
  hostId: string;
  parameters: Record<string, string[]>;
}

/**
 * A scripted stand-in for SSM Run Command: every command succeeds with empty output unless
 * `outcomes` says how commands of its document end, or that they never end.
 */
export class FakeHosts {
  readonly sent: SentCommand[] = [];
  readonly cancelled: DocumentKind[] = [];
  constructor(readonly outcomes: Partial<Record<DocumentKind, Partial<CommandInvocation> | 'never-ends'>> = {}) {}

  get documents(): DocumentKind[] {
    return this.sent.map((command) => command.document);
  }

  invocation(document: DocumentKind): CommandInvocation {
    const outcome = this.outcomes[document];
    if (outcome === 'never-ends')
      return { Status: 'InProgress', ResponseCode: -1, StandardOutputContent: '', StandardErrorContent: '' };
    return { Status: 'Success', ResponseCode: 0, StandardOutputContent: '', StandardErrorContent: '', ...outcome };
  }
}

export type WorkflowResult = { status: 'SUCCEEDED'; output: Json } | { status: 'FAILED'; error: string; cause: string };

/**
 * Runs one of the stack's workflows, exactly as synthesized, through aws-local-stepfunctions: Lambda
 * tasks call the core steps with `ports`, Run Command tasks go to `hosts`, and the link workflow's
 * nested sync runs the sync workflow the same way.
 */
export async function runWorkflow(
  workflow: 'link' | 'sync' | 'provision',
  input: Json,
  ports: StepPorts,
  hosts: FakeHosts,
): Promise<WorkflowResult> {
  const { resolved } = snapflowTemplate();
  const machine = resolved.workflows[workflow];
  if (machine === undefined) throw new Error(`No ${workflow} workflow`);
  const commands = new Map<string, DocumentKind>();
  const handlers: Record<string, (input: Json) => Promise<Json>> = {};
  const waits: Record<string, number> = {};
  const retries: Record<string, number> = {};

  for (const [name, state] of listStates(machine.definition)) {
    if (state.Type === 'Wait') waits[name] = 0;
    if ('Retry' in state && state.Retry !== undefined) retries[name] = 0;
    if (state.Type !== 'Task') continue;
    const fn = resolved.functions[functionIdFromReference(state.Resource) ?? ''];
    if (fn !== undefined) {
      const step = STEPS[fn.handler];
      if (step === undefined) throw new Error(`No step for ${fn.handler}`);
      handlers[name] = async (taskInput) => (await step(taskInput, ports)) as Json;
    } else if (state.Resource.endsWith(':ssm:sendCommand')) {
      handlers[name] = async (request) => {
        const { DocumentName, InstanceIds, Parameters } = request as {
          DocumentName: string;
          InstanceIds: string[];
          Parameters: Record<string, string[]>;
        };
        const document = resolved.documents[DocumentName]?.kind as DocumentKind;
        const commandId = `cmd-${hosts.sent.length}`;
        hosts.sent.push({ document, hostId: InstanceIds[0] ?? '', parameters: Parameters });
        commands.set(commandId, document);
        return { Command: { CommandId: commandId } };
      };
    } else if (state.Resource.endsWith(':ssm:getCommandInvocation')) {
      handlers[name] = async (request) =>
        hosts.invocation(commands.get((request as { CommandId: string }).CommandId) as DocumentKind) as unknown as Json;
    } else if (state.Resource.endsWith(':ssm:cancelCommand')) {
      handlers[name] = async (request) => {
        hosts.cancelled.push(commands.get((request as { CommandId: string }).CommandId) as DocumentKind);
        return {};
      };
    } else if (state.Resource.endsWith(':states:startExecution.sync:2')) {
      handlers[name] = async (request) => {
        const { StateMachineArn, Input } = request as { StateMachineArn: string; Input: Json };
        const child = Object.entries(resolved.workflows).find(
          ([, m]) => m.logicalId === stateMachineIdFromArn(StateMachineArn),
        );
        const result = await runWorkflow(child?.[0] as 'sync', Input, ports, hosts);
        if (result.status === 'SUCCEEDED') return { Status: 'SUCCEEDED', Output: result.output };
        throw Object.assign(new Error(JSON.stringify({ Status: 'FAILED', Error: result.error, Cause: result.cause })), {
          name: 'States.TaskFailed',
        });
      };
    } else {
      throw new Error(`No fake for ${name}: ${state.Resource}`);
    }
  }

  const interpreter = new StateMachine(machine.definition, { validationOptions: { checkPaths: true, checkArn: true } });
  const execution = interpreter.run(input, {
    overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits, retryIntervalOverrides: retries },
    context: { Execution: { Id: `arn:aws:states:us-east-1:123456789012:execution:${workflow}:test`, Name: 'test' } },
  });
  try {
    return { status: 'SUCCEEDED', output: await execution.result };
  } catch (error) {
    const failure = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : (error as Error);
    return { status: 'FAILED', error: failure.name, cause: failure.message };
  }
}
