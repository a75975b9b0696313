import '../../lib/local/polyfills';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { DocumentKind } from '../../lib/core/host-plan';
import { createDSource } from '../../lib/core/steps/create-dsource';
import { createTimeflow } from '../../lib/core/steps/create-timeflow';
import { createVdb } from '../../lib/core/steps/create-vdb';
import { deleteDSource } from '../../lib/core/steps/delete-dsource';
import { deleteVdb } from '../../lib/core/steps/delete-vdb';
import { planDeleteDSource } from '../../lib/core/steps/plan-delete-dsource';
import { planExport } from '../../lib/core/steps/plan-export';
import { planProvision } from '../../lib/core/steps/plan-provision';
import { planRefresh } from '../../lib/core/steps/plan-refresh';
import { planRollback } from '../../lib/core/steps/plan-rollback';
import { planSync } from '../../lib/core/steps/plan-sync';
import { planVdbLifecycle } from '../../lib/core/steps/plan-vdb-lifecycle';
import { type CommandInvocation, raiseHostError } from '../../lib/core/steps/raise-host-error';
import { recordSnapshot } from '../../lib/core/steps/record-snapshot';
import { reportExport } from '../../lib/core/steps/report-export';
import { restoreTimeflow } from '../../lib/core/steps/restore-timeflow';
import { snapshotVdb } from '../../lib/core/steps/snapshot-vdb';
import type { StepPorts } from '../../lib/core/steps/step-ports';
import { updateVdbState } from '../../lib/core/steps/update-vdb-state';
import { validateLink } from '../../lib/core/steps/validate-link';
import type { WorkflowName } from '../../lib/core/workflow-inputs';
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
  'functions/update-vdb-state.ts': updateVdbState,
  'functions/snapshot-vdb.ts': snapshotVdb,
  'functions/delete-vdb.ts': deleteVdb,
  'functions/plan-refresh.ts': planRefresh,
  'functions/plan-rollback.ts': planRollback,
  'functions/create-timeflow.ts': createTimeflow,
  'functions/restore-timeflow.ts': restoreTimeflow,
  'functions/plan-export.ts': planExport,
  'functions/report-export.ts': reportExport,
  'functions/plan-vdb-lifecycle.ts': planVdbLifecycle,
  'functions/plan-delete-dsource.ts': planDeleteDSource,
  'functions/raise-host-error.ts': raiseHostError,
};

/** One command the workflow sent to a host. */
export interface SentCommand {
  document: DocumentKind;
  hostId: string;
  parameters: Record<string, string[]>;
}

/** How a scripted host command ends: as an invocation (fields not given are a success's), or never. */
export type HostOutcome = Partial<CommandInvocation> | 'never-ends';

/**
 * A scripted stand-in for SSM Run Command: every command succeeds with empty output unless
 * `outcomes` says how commands of its document end. A list gives the outcomes of the document's
 * commands in the order they are sent; commands after the list succeed.
 */
export class FakeHosts {
  readonly sent: SentCommand[] = [];
  readonly cancelled: DocumentKind[] = [];
  private readonly commands = new Map<string, { document: DocumentKind; outcome: HostOutcome | undefined }>();
  constructor(readonly outcomes: Partial<Record<DocumentKind, HostOutcome | HostOutcome[]>> = {}) {}

  get documents(): DocumentKind[] {
    return this.sent.map((command) => command.document);
  }

  /** Records a sent command, settles how it will end, and answers with its id. */
  send(command: SentCommand): string {
    const commandId = `cmd-${this.sent.length}`;
    this.sent.push(command);
    const planned = this.outcomes[command.document];
    const outcome = Array.isArray(planned) ? planned.shift() : planned;
    this.commands.set(commandId, { document: command.document, outcome });
    return commandId;
  }

  document(commandId: string): DocumentKind {
    return this.command(commandId).document;
  }

  invocation(commandId: string): CommandInvocation {
    const { outcome } = this.command(commandId);
    if (outcome === 'never-ends')
      return { Status: 'InProgress', ResponseCode: -1, StandardOutputContent: '', StandardErrorContent: '' };
    return { Status: 'Success', ResponseCode: 0, StandardOutputContent: '', StandardErrorContent: '', ...outcome };
  }

  private command(commandId: string) {
    const command = this.commands.get(commandId);
    if (command === undefined) throw new Error(`No command ${commandId} was sent`);
    return command;
  }
}

export type WorkflowResult = { status: 'SUCCEEDED'; output: Json } | { status: 'FAILED'; error: string; cause: string };

/** The output of a run that must have succeeded. */
export function outputOf<T>(result: WorkflowResult): T {
  if (result.status !== 'SUCCEEDED') throw new Error(`The workflow failed with ${result.error}: ${result.cause}`);
  return result.output as T;
}

/**
 * Runs one of the stack's workflows, exactly as synthesized, through aws-local-stepfunctions: Lambda
 * tasks call the core steps with `ports`, Run Command tasks go to `hosts`, and the link workflow's
 * nested sync runs the sync workflow the same way.
 */
export async function runWorkflow(
  workflow: WorkflowName,
  input: Json,
  ports: StepPorts,
  hosts: FakeHosts,
): Promise<WorkflowResult> {
  const { resolved } = snapflowTemplate();
  const machine = resolved.workflows[workflow];
  if (machine === undefined) throw new Error(`No ${workflow} workflow`);
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
        const commandId = hosts.send({ document, hostId: InstanceIds[0] ?? '', parameters: Parameters });
        return { Command: { CommandId: commandId } };
      };
    } else if (state.Resource.endsWith(':ssm:getCommandInvocation')) {
      handlers[name] = async (request) =>
        hosts.invocation((request as { CommandId: string }).CommandId) as unknown as Json;
    } else if (state.Resource.endsWith(':ssm:cancelCommand')) {
      handlers[name] = async (request) => {
        hosts.cancelled.push(hosts.document((request as { CommandId: string }).CommandId));
        return {};
      };
    } else if (state.Resource.endsWith(':states:startExecution.sync:2')) {
      handlers[name] = async (request) => {
        const { StateMachineArn, Input } = request as { StateMachineArn: string; Input: Json };
        const child = Object.entries(resolved.workflows).find(
          ([, m]) => m.logicalId === stateMachineIdFromArn(StateMachineArn),
        );
        const result = await runWorkflow(child?.[0] as WorkflowName, Input, ports, hosts);
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
    context: {
      Execution: { Id: `arn:aws:states:us-east-1:123456789012:execution:${workflow}:test`, Name: 'test' },
    },
  });
  try {
    return { status: 'SUCCEEDED', output: await execution.result };
  } catch (error) {
    const failure = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : (error as Error);
    return { status: 'FAILED', error: failure.name, cause: failure.message };
  }
}
