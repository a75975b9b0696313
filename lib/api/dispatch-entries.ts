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
import type { ApiPorts, Job } from './api-ports';

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
 * and dSource is answered as it stands, not started twice.
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
  const dispatched: DispatchedEntry[] = [];
  for (const { event, forRules } of events) {
    const syncs = forRules ? syncsForEvent(event, { dsources, sourceConfigs, environments }) : [];
    const jobs: Job[] = [];
    for (const sync of syncs) jobs.push(await startOnce(ports, 'sync', sync.input, sync.jobId));
    dispatched.push({ event, jobs });
  }
  return dispatched;
}

/**
 * Starts a run a trigger asks for under a job id made from the trigger, or, when a job has that id
 * already (the same event or due time delivered again), answers that job: one trigger, one run.
 */
export async function startOnce(
  ports: Pick<ApiPorts, 'workflows' | 'jobs'>,
  workflow: WorkflowName,
  input: unknown,
  jobId: string,
): Promise<Job> {
  try {
    return await ports.workflows.start(workflow, input, jobId);
  } catch (error) {
    if (!isSnapflowError(error, ErrorNames.Conflict)) throw error;
    return ports.jobs.get(jobId);
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
