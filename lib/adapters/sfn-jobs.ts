import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Job, JobReader, JobStatus, JobStep, WorkflowStarter } from '../api/api-ports';
import { workflowOfJob } from '../api/job-id';
import { ErrorNames, SnapflowError } from '../core/errors';
import type { WorkflowName } from '../core/workflow-inputs';

/** Options of {@link createSfnJobs}. */
export interface SfnJobsOptions {
  client: SFNClient;
  /** The ARN of each workflow's state machine. */
  stateMachineArns: Readonly<Record<WorkflowName, string>>;
  /** Pages of execution history read for a job's steps, 1,000 events each. @default 5 */
  maxHistoryPages?: number;
}

/** SDK errors that a later call may not meet: too many executions, throttling, a service hiccup. */
const TRANSIENT_ERRORS = new Set([
  'ExecutionLimitExceeded',
  'ThrottlingException',
  'ServiceUnavailable',
  'InternalServerError',
]);

/**
 * Jobs on AWS: each is one Step Functions execution, named by the job id. StartExecution starts it;
 * DescribeExecution says how it stands and GetExecutionHistory gives its steps. The job id begins with
 * the workflow's name, which says whose state machine the execution belongs to.
 */
export function createSfnJobs(options: SfnJobsOptions): WorkflowStarter & JobReader {
  const { client, stateMachineArns } = options;

  return {
    async start(workflow, input, jobId) {
      const stateMachineArn = stateMachineArns[workflow];
      try {
        const started = await client.send(
          new StartExecutionCommand({ stateMachineArn, name: jobId, input: JSON.stringify(input) }),
        );
        return {
          id: jobId,
          workflow,
          status: 'RUNNING',
          input,
          startedAt: (started.startDate ?? new Date()).toISOString(),
          steps: [],
        };
      } catch (error) {
        throw startError(error, workflow, jobId);
      }
    },

    async get(jobId) {
      const workflow = workflowOfJob(jobId);
      if (workflow === undefined) throw noSuchJob(jobId);
      const executionArn = executionArnOf(stateMachineArns[workflow], jobId);
      try {
        const execution = await client.send(new DescribeExecutionCommand({ executionArn }));
        const events = await history(client, executionArn, options.maxHistoryPages ?? 5);
        const status = jobStatus(execution.status);
        return {
          id: jobId,
          workflow,
          status,
          input: parseJson(execution.input),
          startedAt: (execution.startDate ?? new Date(0)).toISOString(),
          ...(execution.stopDate === undefined ? {} : { endedAt: execution.stopDate.toISOString() }),
          steps: stepsFromHistory(events),
          ...(execution.output === undefined ? {} : { output: parseJson(execution.output) }),
          ...(execution.error === undefined && execution.cause === undefined
            ? {}
            : { error: { name: execution.error ?? 'States.Runtime', cause: execution.cause ?? '' } }),
        } satisfies Job;
      } catch (error) {
        if (error instanceof Error && error.name === 'ExecutionDoesNotExist') throw noSuchJob(jobId);
        throw error;
      }
    },
  };
}

/** `arn:…:stateMachine:<name>` → `arn:…:execution:<name>:<execution name>`. */
export function executionArnOf(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}

async function history(client: SFNClient, executionArn: string, maxPages: number): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const answer = await client.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 1000,
        includeExecutionData: false,
        ...(nextToken === undefined ? {} : { nextToken }),
      }),
    );
    events.push(...(answer.events ?? []));
    nextToken = answer.nextToken;
    if (nextToken === undefined) break;
  }
  return events;
}

/**
 * The steps of an execution from its history: a step per `…StateEntered`, ended by its
 * `…StateExited`. A state that failed (a `…Failed` or `…TimedOut` event) and was left for another
 * without exiting had its error caught; the states still open when the execution ends end with it.
 */
export function stepsFromHistory(events: readonly HistoryEvent[]): JobStep[] {
  const steps: JobStep[] = [];
  const open: { step: JobStep; failing: boolean }[] = [];
  const close = (entry: { step: JobStep }, status: JobStep['status'], at: Date | undefined) => {
    entry.step.status = status;
    const ended = at ?? new Date(entry.step.startedAt);
    entry.step.endedAt = ended.toISOString();
    entry.step.durationMs = Math.max(0, ended.getTime() - Date.parse(entry.step.startedAt));
  };
  for (const event of events) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      for (const entry of open.filter((candidate) => candidate.failing)) {
        close(entry, 'CAUGHT', event.timestamp);
        open.splice(open.indexOf(entry), 1);
      }
      const step: JobStep = {
        name: event.stateEnteredEventDetails?.name ?? type,
        status: 'RUNNING',
        startedAt: (event.timestamp ?? new Date(0)).toISOString(),
      };
      steps.push(step);
      open.push({ step, failing: false });
    } else if (type.endsWith('StateExited')) {
      const name = event.stateExitedEventDetails?.name;
      const at = open.findLastIndex((entry) => entry.step.name === name);
      const [entry] = at === -1 ? [] : open.splice(at, 1);
      if (entry !== undefined) close(entry, 'SUCCEEDED', event.timestamp);
    } else if (type.startsWith('Execution') && type !== 'ExecutionStarted' && type !== 'ExecutionRedriven') {
      const status = type === 'ExecutionSucceeded' ? 'SUCCEEDED' : type === 'ExecutionAborted' ? 'ABORTED' : 'FAILED';
      for (const entry of open.splice(0)) close(entry, status, event.timestamp);
    } else if (/(Failed|TimedOut)$/.test(type)) {
      const innermost = open.at(-1);
      if (innermost !== undefined) innermost.failing = true;
    } else if (/(Scheduled|Started|Submitted)$/.test(type)) {
      // A retry schedules the task again: the state is no longer failing.
      const innermost = open.at(-1);
      if (innermost !== undefined) innermost.failing = false;
    }
  }
  return steps;
}

function jobStatus(status: string | undefined): JobStatus {
  switch (status) {
    case 'SUCCEEDED':
    case 'FAILED':
    case 'TIMED_OUT':
    case 'ABORTED':
    case 'RUNNING':
      return status;
    default:
      // PENDING_REDRIVE: it failed, and may be redriven.
      return 'FAILED';
  }
}

function startError(error: unknown, workflow: WorkflowName, jobId: string): unknown {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'ExecutionAlreadyExists') {
    return new SnapflowError(
      ErrorNames.Conflict,
      `a job ${jobId} exists already`,
      { action: 'Start the job again; the API picks a new id each time.' },
      { cause: error },
    );
  }
  if (name === 'StateMachineDoesNotExist' || name === 'StateMachineDeleting') {
    return new SnapflowError(
      ErrorNames.UnsupportedOperation,
      `the ${workflow} state machine is not deployed (${message})`,
      { action: 'Deploy the Snapflow stack again, then retry.' },
      { cause: error },
    );
  }
  if (TRANSIENT_ERRORS.has(name)) {
    return new SnapflowError(
      ErrorNames.EngineUnavailable,
      `Step Functions did not start the ${workflow} job now (${name}: ${message})`,
      { action: 'Wait a little and send the request again.' },
      { cause: error },
    );
  }
  return error;
}

function noSuchJob(jobId: string): SnapflowError {
  return new SnapflowError(ErrorNames.NotFound, `there is no job ${jobId}`, {
    action: 'Use the job id the API answered with when it started the job.',
  });
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
