import { syncsForEvent } from '../core/dispatch-event';
import { ErrorNames, isSnapflowError } from '../core/errors';
import {
  type EventBridgeEvent,
  isForDefaultBus,
  type PutEventsEntry,
  SNAPFLOW_EVENT_SOURCE,
  SOURCE_CHANGED_DETAIL_TYPE,
  toEvent,
} from '../core/event-patterns';
import type { WorkflowName } from '../core/workflow-inputs';
import type { ApiPorts, Job, WorkflowStarter } from './api-ports';

/** What one entry became: the event EventBridge would have made of it, and the syncs it started. */
export interface DispatchedEntry {
  event: EventBridgeEvent;
  /** Empty when the event matches no rule or names no dSource. */
  jobs: Job[];
}

/**
 * What EventBridge stamps on every event besides its id and time. Snapflow's patterns match on
 * neither the account nor the region, so events put here carry placeholders.
 */
const ENVELOPE = { account: '000000000000', region: 'local' } as const;

/**
 * Handles PutEvents entries as Snapflow's EventBridge rules do on AWS: each entry becomes an event
 * (a new id, the time it arrived, `Detail` parsed), and the syncs `syncsForEvent` finds for it, by
 * the same patterns as the rules, are started. Entries for another bus than the default one, where
 * the rules are, start nothing. Every entry is turned into its event before any sync starts, so an
 * entry that is not valid starts nothing at all. A sync that was started already for the same event
 * and dSource is answered as it stands, not started twice ({@link startRuns}), and every sync is
 * tried before a failure is reported.
 * @param root Dotted path of the entries in the caller's input, for messages.
 * @throws ValidationError naming the entry's field, e.g. `Entries.0.Detail`
 */
export async function dispatchEntries(
  entries: readonly PutEventsEntry[],
  ports: Pick<ApiPorts, 'engine' | 'workflows' | 'jobs'>,
  root = 'Entries',
): Promise<DispatchedEntry[]> {
  const arrived = new Date();
  const events = entries.map((entry, index) => ({
    event: toEvent(entry, { ...ENVELOPE, id: crypto.randomUUID(), time: arrived }, `${root}.${index}`),
    forRules: isForDefaultBus(entry),
  }));
  if (!events.some(({ forRules }) => forRules)) return events.map(({ event }) => ({ event, jobs: [] }));

  const [dsources, sourceConfigs, environments] = await Promise.all([
    ports.engine.listDSources(),
    ports.engine.listSourceConfigs(),
    ports.engine.listEnvironments(),
  ]);
  const syncs = events.map(({ event, forRules }) =>
    forRules ? syncsForEvent(event, { dsources, sourceConfigs, environments }) : [],
  );
  const outcomes = await startRuns(ports.workflows, 'sync', syncs.flat());
  const jobs = await Promise.all(
    outcomes.map((outcome) => (outcome.outcome === 'started' ? outcome.job : ports.jobs.get(outcome.jobId))),
  );
  const jobsById = new Map(jobs.map((job) => [job.id, job]));
  return events.map(({ event }, index) => ({
    event,
    jobs: (syncs[index] ?? []).flatMap((sync) => jobsById.get(sync.jobId) ?? []),
  }));
}

/** One run a trigger asks for, named by a job id that is the same each time it asks. */
export interface TriggeredRun {
  jobId: string;
  input: unknown;
}

/**
 * What became of one run: `started` now (with the job as it started), or `alreadyStarted` by an
 * earlier delivery of the same trigger.
 */
export type RunOutcome = { jobId: string; outcome: 'started'; job: Job } | { jobId: string; outcome: 'alreadyStarted' };

/** Runs started at once; a few keep a trigger's turn short without meeting Step Functions' rate limits. */
const IN_FLIGHT = 8;

/**
 * Starts a run of `workflow` for each run a trigger asks for, named by its job id, a few at a time.
 * A job id that exists already was started by an earlier delivery of the same trigger (the same
 * event or due time again), so it counts as started: one trigger, one run. Every run is tried before
 * a failure is reported, so one run that cannot start keeps none of the others from starting, and
 * a retry of the trigger starts only what is still missing.
 * @throws the error when one run failed to start, an AggregateError of them all when more did
 */
export async function startRuns(
  workflows: WorkflowStarter,
  workflow: WorkflowName,
  runs: readonly TriggeredRun[],
): Promise<RunOutcome[]> {
  const outcomes: RunOutcome[] = [];
  const errors: unknown[] = [];
  for (let first = 0; first < runs.length; first += IN_FLIGHT) {
    const batch = runs.slice(first, first + IN_FLIGHT);
    const settled = await Promise.allSettled(batch.map((run) => startRun(workflows, workflow, run)));
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

async function startRun(workflows: WorkflowStarter, workflow: WorkflowName, run: TriggeredRun): Promise<RunOutcome> {
  try {
    return { jobId: run.jobId, outcome: 'started', job: await workflows.start(workflow, run.input, run.jobId) };
  } catch (error) {
    if (isSnapflowError(error, ErrorNames.Conflict)) return { jobId: run.jobId, outcome: 'alreadyStarted' };
    throw error;
  }
}

/**
 * The PutEvents entry of a "Source Data Changed" event: it names a dSource by id, or the source data
 * by host (environment name or host id) and path, as `syncsForEvent` reads it.
 */
export function sourceChangedEntry(
  detail: { dsourceId: string } | { sourceHost: string; sourcePath: string },
): PutEventsEntry {
  return { Source: SNAPFLOW_EVENT_SOURCE, DetailType: SOURCE_CHANGED_DETAIL_TYPE, Detail: JSON.stringify(detail) };
}
