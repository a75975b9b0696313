import type { WorkflowStarter } from '../../lib/api/api-ports';
import { ErrorNames, isSnapflowError } from '../../lib/core/errors';
import type { WorkflowName } from '../../lib/core/workflow-inputs';

/** One execution a trigger asks for, named by a job id that is the same each time it asks. */
export interface RunToStart {
  jobId: string;
  input: unknown;
}

/** What became of one run: `started` now, or `alreadyStarted` by an earlier delivery of the same trigger. */
export interface RunOutcome {
  jobId: string;
  outcome: 'started' | 'alreadyStarted';
}

/** Executions started at once; a few keep one invocation short without meeting Step Functions' rate limits. */
const IN_FLIGHT = 8;

/**
 * Starts an execution of `workflow` for each run, named by its job id, a few at a time. A job id
 * that exists already was started by an earlier delivery of the same trigger, so it counts as
 * started. Every run is tried before a failure is reported, so the invocation's retry starts only
 * what is still missing.
 * @throws the error when one run failed to start, an AggregateError of them all when more did
 */
export async function startRuns(
  workflows: WorkflowStarter,
  workflow: WorkflowName,
  runs: readonly RunToStart[],
): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = [];
  const errors: unknown[] = [];
  for (let first = 0; first < runs.length; first += IN_FLIGHT) {
    const batch = runs.slice(first, first + IN_FLIGHT);
    const settled = await Promise.allSettled(batch.map((run) => start(workflows, workflow, run)));
    for (const result of settled) {
      if (result.status === 'fulfilled') outcomes.push(result.value);
      else errors.push(result.reason);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1)
    throw new AggregateError(errors, `${errors.length} of ${runs.length} ${workflow} runs did not start`);
  return outcomes;
}

async function start(workflows: WorkflowStarter, workflow: WorkflowName, run: RunToStart): Promise<RunOutcome> {
  try {
    await workflows.start(workflow, run.input, run.jobId);
    return { jobId: run.jobId, outcome: 'started' };
  } catch (error) {
    if (isSnapflowError(error, ErrorNames.Conflict)) return { jobId: run.jobId, outcome: 'alreadyStarted' };
    throw error;
  }
}
