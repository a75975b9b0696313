import './polyfills';
import { randomUUID } from 'node:crypto';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { QueueingErrorNames } from '../core/errors';
import { checkLocalSupport } from './check-local-support';
import type { CancelCommandRequest, GetCommandInvocationRequest, HostAgent, SendCommandRequest } from './host-agent';
import { LambdaInvoker } from './lambda-invoker';
import { type AslState, listStates } from './list-states';
import { recordSteps, type StepRecord } from './record-steps';
import {
  functionIdFromReference,
  type ResolvedStateMachine,
  type ResolvedTemplate,
  stateMachineIdFromArn,
} from './resolve-template';

type JsonValue = Parameters<StateMachine['run']>[0];

export interface LocalWorkflowsOptions {
  /** Handler modules (`SnapflowHandler` metadata) are imported from paths relative to it. */
  repoRoot: string;
  /** Runs the Run Command tasks. */
  hostAgent: HostAgent;
  /**
   * Set on `process.env` before any handler module loads (e.g. `ENGINE_URL`, `ENGINE_TOKEN`). All
   * handlers share this process, so the values are process-wide.
   */
  environment?: Record<string, string>;
}

export interface WorkflowRunOptions {
  /** The execution's name, last part of its ARN. @default a random UUID */
  executionName?: string;
  /** Aborts the execution, which then ends as `ABORTED`. */
  signal?: AbortSignal;
  /** Called whenever a step starts, fails, is retried or ends: for a progress display. */
  onStep?: (step: StepRecord) => void;
}

export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** How an execution ended, as `DescribeExecution` would say, plus the timing of every step. */
export interface WorkflowRun {
  status: ExecutionStatus;
  /** The execution's output, when it succeeded. */
  output?: JsonValue;
  /** The error and cause that ended a failed or timed-out execution. */
  error?: { name: string; cause: string };
  executionArn: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  steps: StepRecord[];
}

/** A running execution, as its Task dispatchers see it. */
interface Execution {
  arn: string;
  /** Aborts child executions started by `.sync:2` tasks that are still running. */
  children: Set<AbortController>;
}

type TaskDispatch = (input: JsonValue, execution: Execution) => Promise<JsonValue>;

interface LocalStateMachine {
  resolved: ResolvedStateMachine;
  interpreter: StateMachine;
  tasks: Map<string, TaskDispatch>;
  waits: Record<string, number>;
  retries: Record<string, number[]>;
}

const SSM_ACTIONS = ['sendCommand', 'getCommandInvocation', 'cancelCommand'] as const;

/**
 * Runs the workflows of a synthesized Snapflow stack on this machine. Each state machine's ASL goes
 * unchanged to aws-local-stepfunctions; every Task is dispatched by state name: Lambda tasks to the
 * handler modules in-process, `aws-sdk:ssm:*` tasks to the host agent, `startExecution.sync:2` to a
 * nested local execution. A Task this class cannot dispatch is refused when it is constructed, so no
 * run ever reaches for real AWS.
 *
 * What still differs from Step Functions: a Task without `TimeoutSeconds` times out after 60 s here
 * (the interpreter's default; Step Functions has none), so long Tasks such as nested workflows need an
 * explicit timeout; and all handlers share this process, its environment and their module state.
 */
export class LocalWorkflows {
  private readonly template: ResolvedTemplate;
  private readonly machines = new Map<string, LocalStateMachine>();
  private readonly lambda: LambdaInvoker;
  private readonly agent: HostAgent;

  /**
   * @param template The synthesized template, resolved (`resolveTemplate`); its ASL is run as it is.
   * @throws Error naming the workflow and state of a Task that cannot run locally, of a feature the
   * interpreter would get wrong, or of a handler module that does not exist.
   */
  constructor(template: ResolvedTemplate, options: LocalWorkflowsOptions) {
    this.template = template;
    this.agent = options.hostAgent;
    this.lambda = new LambdaInvoker({
      repoRoot: options.repoRoot,
      functions: template.functions,
      region: template.region,
      accountId: template.accountId,
    });
    Object.assign(process.env, options.environment);
    for (const resolved of Object.values(template.stateMachines)) {
      const name = resolved.workflowName ?? resolved.logicalId;
      checkLocalSupport(name, resolved.definition);
      // asl-validator writes a default QueryLanguage into every state of what it validates, so it
      // checks a copy and the interpreter runs the synthesized object itself, unvalidated and unchanged.
      new StateMachine(structuredClone(resolved.definition), {
        validationOptions: { checkPaths: true, checkArn: true },
      });
      const machine: LocalStateMachine = {
        resolved,
        interpreter: new StateMachine(resolved.definition, { validationOptions: { noValidate: true } }),
        tasks: new Map(),
        waits: {},
        retries: {},
      };
      for (const [stateName, state] of listStates(resolved.definition)) {
        if (state.Type === 'Task') machine.tasks.set(stateName, this.dispatchFor(name, stateName, state));
        // Wait states pass at once: the poll loops stay cheap because the host agent's
        // getCommandInvocation waits for the command itself.
        if (state.Type === 'Wait') machine.waits[stateName] = 0;
        const retriers = localRetryIntervalsMs(state, 0);
        if (retriers !== undefined) machine.retries[stateName] = retriers;
      }
      this.machines.set(resolved.logicalId, machine);
    }
  }

  /** The names of the workflows (`SnapflowWorkflow` metadata), sorted. */
  workflowNames(): string[] {
    return Object.keys(this.template.workflows).sort();
  }

  /** The definition given to the interpreter for `workflowName`: the very object, as synthesized. */
  asl(workflowName: string): StateMachineDefinition {
    return this.machine(workflowName).resolved.definition;
  }

  /**
   * Runs `workflowName` on `input` to the end. Never rejects for a failed execution: the result says
   * how it ended.
   * @throws Error for an unknown workflow name.
   */
  run(workflowName: string, input: JsonValue, options: WorkflowRunOptions = {}): Promise<WorkflowRun> {
    return this.execute(this.machine(workflowName), input, options);
  }

  private machine(workflowName: string): LocalStateMachine {
    const resolved = this.template.workflows[workflowName];
    const machine = resolved === undefined ? undefined : this.machines.get(resolved.logicalId);
    if (machine === undefined) {
      throw new Error(`No workflow named ${workflowName}; workflows: ${this.workflowNames().join(', ')}`);
    }
    return machine;
  }

  private async execute(
    machine: LocalStateMachine,
    input: JsonValue,
    options: WorkflowRunOptions,
  ): Promise<WorkflowRun> {
    const { resolved } = machine;
    const name = options.executionName ?? randomUUID();
    const arn = `arn:aws:states:${this.template.region}:${this.template.accountId}:execution:${resolved.logicalId}:${name}`;
    const execution: Execution = { arn, children: new Set() };
    const taskHandlers = Object.fromEntries(
      [...machine.tasks].map(([state, dispatch]) => [state, (taskInput: JsonValue) => dispatch(taskInput, execution)]),
    );
    const started = Date.now();
    const running = machine.interpreter.run(input, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers,
        waitTimeOverrides: machine.waits,
        retryIntervalOverrides: machine.retries,
      },
      context: {
        Execution: { Id: arn, Name: name },
        StateMachine: { Id: resolved.arn, Name: resolved.logicalId },
      },
    });
    const steps: StepRecord[] = [];
    const recording = recordSteps(running.eventLogs, steps, options.onStep);
    const abort = () => running.abort();
    options.signal?.addEventListener('abort', abort);
    if (options.signal?.aborted) abort();

    let ending: Pick<WorkflowRun, 'status' | 'output' | 'error'>;
    try {
      ending = { status: 'SUCCEEDED', output: await running.result };
    } catch (error) {
      ending = failure(error);
    } finally {
      options.signal?.removeEventListener('abort', abort);
      for (const child of execution.children) child.abort();
    }
    await recording;
    const ended = Date.now();
    return {
      ...ending,
      executionArn: arn,
      startedAt: new Date(started).toISOString(),
      endedAt: new Date(ended).toISOString(),
      durationMs: ended - started,
      steps,
    };
  }

  /** How a Task state's `Resource` runs locally. */
  private dispatchFor(
    workflow: string,
    stateName: string,
    state: { Resource: string; Parameters?: unknown },
  ): TaskDispatch {
    const where = `Workflow ${workflow}, state "${stateName}",`;
    const { Resource: resource } = state;
    const parameters = (state.Parameters ?? {}) as Record<string, unknown>;

    if (/^arn:[^:]+:lambda:[^:]*:[^:]*:function:/.test(resource)) {
      const id = functionIdFromReference(resource) as string;
      this.lambda.check(id, where);
      return async (input) => (await this.lambda.invoke(id, input)) as JsonValue;
    }

    const integration = /^arn:[^:]+:states:::(.+)$/.exec(resource)?.[1];
    if (integration === 'lambda:invoke') {
      if (typeof parameters.FunctionName === 'string')
        this.lambda.check(this.functionId(parameters.FunctionName), where);
      return async (input) => {
        const { FunctionName, Payload } = input as { FunctionName: string; Payload?: JsonValue };
        const id = this.functionId(FunctionName);
        this.lambda.check(id, where);
        const result = (await this.lambda.invoke(id, Payload ?? {})) as JsonValue;
        return { Payload: result, StatusCode: 200, ExecutedVersion: '$LATEST' };
      };
    }
    if (integration === 'states:startExecution.sync:2') {
      if (typeof parameters.StateMachineArn === 'string') this.childMachine(parameters.StateMachineArn, where);
      return (input, execution) => this.startChild(input, execution, where);
    }
    const ssmAction = SSM_ACTIONS.find((action) => integration === `aws-sdk:ssm:${action}`);
    if (ssmAction !== undefined) return (input) => this.callAgent(ssmAction, input);

    throw new Error(
      `${where} uses ${resource}, which local mode cannot run. Local mode runs Lambda functions ` +
        '(ARN or lambda:invoke), aws-sdk:ssm:sendCommand/getCommandInvocation/cancelCommand and ' +
        'states:startExecution.sync:2.',
    );
  }

  private async callAgent(action: (typeof SSM_ACTIONS)[number], input: JsonValue): Promise<JsonValue> {
    switch (action) {
      case 'sendCommand':
        return toJson(await this.agent.sendCommand(input as unknown as SendCommandRequest));
      case 'getCommandInvocation':
        return toJson(await this.agent.getCommandInvocation(input as unknown as GetCommandInvocationRequest));
      case 'cancelCommand':
        return toJson(await this.agent.cancelCommand(input as unknown as CancelCommandRequest));
    }
  }

  private functionId(reference: string): string {
    const id = functionIdFromReference(reference);
    if (id === undefined) throw new Error(`${reference} is not a Lambda function name or ARN`);
    return id;
  }

  private childMachine(arn: string, where: string): ResolvedStateMachine {
    const id = stateMachineIdFromArn(arn);
    const machine = id === undefined ? undefined : this.template.stateMachines[id];
    if (machine === undefined) throw new Error(`${where} starts ${arn}, which is not a state machine of this template`);
    return machine;
  }

  /** `startExecution.sync:2`: runs the child to its end and answers as `DescribeExecution` with JSON output. */
  private async startChild(input: JsonValue, parent: Execution, where: string): Promise<JsonValue> {
    const request = input as { StateMachineArn: string; Input?: JsonValue; Name?: string };
    const machine = this.machines.get(this.childMachine(request.StateMachineArn, where).logicalId) as LocalStateMachine;
    const childInput =
      typeof request.Input === 'string' ? (JSON.parse(request.Input) as JsonValue) : (request.Input ?? {});
    const controller = new AbortController();
    parent.children.add(controller);
    const run = await this.execute(machine, childInput, {
      signal: controller.signal,
      ...(request.Name === undefined ? {} : { executionName: request.Name }),
    }).finally(() => parent.children.delete(controller));
    const description = {
      ExecutionArn: run.executionArn,
      StateMachineArn: request.StateMachineArn,
      Name: run.executionArn.split(':').pop() ?? '',
      Status: run.status,
      StartDate: Date.parse(run.startedAt),
      StopDate: Date.parse(run.endedAt),
      Input: childInput,
      InputDetails: { Included: true },
    };
    if (run.status === 'SUCCEEDED') {
      return { ...description, Output: run.output ?? null, OutputDetails: { Included: true } };
    }
    throw new ChildExecutionFailedError(
      JSON.stringify({ ...description, Error: run.error?.name ?? '', Cause: run.error?.cause ?? '' }),
    );
  }
}

/** The longest pause locally before a run queued for a dataset's lease asks for it again. */
export const LOCAL_QUEUE_RETRY_MAX_MS = 1000;

/**
 * The pause before each retry of `state`'s retriers, in their order, as local mode runs them (for the
 * interpreter's `retryIntervalOverrides`, which ignore the declared backoff). A retrier whose errors
 * all mean "another run holds the dataset" (QueueingErrorNames) keeps its declared first interval, up
 * to {@link LOCAL_QUEUE_RETRY_MAX_MS}: at 0 ms a queued run would use up its attempts before the run
 * ahead of it had done anything. The cap is there because Step Functions backs off towards intervals
 * sized for runs of an hour, whereas local runs often end within a second, so a queued local run starts
 * at most a second after the lease is free; the price is that it gives up after MaxAttempts seconds of
 * waiting rather than after the declared total. Every other retrier pauses `otherMs`.
 *
 * @returns undefined for a state without Retry
 */
export function localRetryIntervalsMs(state: AslState, otherMs: number): number[] | undefined {
  if (!('Retry' in state) || state.Retry === undefined) return undefined;
  return state.Retry.map((retrier) => {
    const queueing = retrier.ErrorEquals.every((name) => (QueueingErrorNames as readonly string[]).includes(name));
    // IntervalSeconds defaults to 1 in the States Language.
    return queueing ? Math.min((retrier.IntervalSeconds ?? 1) * 1000, LOCAL_QUEUE_RETRY_MAX_MS) : otherMs;
  });
}

/** A `.sync` child that did not succeed, as Step Functions reports it to the parent. */
class ChildExecutionFailedError extends Error {
  override readonly name = 'States.TaskFailed';
}

function failure(error: unknown): Pick<WorkflowRun, 'status' | 'error'> {
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (error instanceof ExecutionTimeoutError) {
    return {
      status: 'TIMED_OUT',
      error: { name: 'States.Timeout', cause: 'The execution ran longer than its TimeoutSeconds' },
    };
  }
  const cause = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
  if (cause instanceof Error) return { status: 'FAILED', error: { name: cause.name, cause: cause.message } };
  return { status: 'FAILED', error: { name: 'States.Runtime', cause: String(cause) } };
}

function toJson(value: object): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
