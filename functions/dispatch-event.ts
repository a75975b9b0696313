import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { createSfnJobs } from '../lib/adapters/sfn-jobs';
import type { WorkflowStarter } from '../lib/api/api-ports';
import { type RunOutcome, startRuns } from '../lib/api/dispatch-entries';
import { syncsForEvent } from '../lib/core/dispatch-event';
import type { EventBridgeEvent } from '../lib/core/event-patterns';
import type { EngineApi } from '../lib/core/ports';
import type { WorkflowName } from '../lib/core/workflow-inputs';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/**
 * Starts the syncs an event names ({@link syncsForEvent}) with the engine's current dSources, source
 * configs and environments, and says what became of each; an event that names none starts nothing.
 */
export async function dispatchEvent(
  event: EventBridgeEvent,
  { engine, workflows }: { engine: EngineApi; workflows: WorkflowStarter },
): Promise<Pick<RunOutcome, 'jobId' | 'outcome'>[]> {
  const [dsources, sourceConfigs, environments] = await Promise.all([
    engine.listDSources(),
    engine.listSourceConfigs(),
    engine.listEnvironments(),
  ]);
  const syncs = syncsForEvent(event, { dsources, sourceConfigs, environments });
  const outcomes = await startRuns(workflows, 'sync', syncs);
  return outcomes.map(({ jobId, outcome }) => ({ jobId, outcome }));
}

let workflows: WorkflowStarter | undefined;

/** Lambda entry of the event rules: runs {@link dispatchEvent} and logs what it started. */
export const handler = middy<EventBridgeEvent>()
  .use(snapflowErrors())
  .handler(async (event) => {
    const arn = process.env.SYNC_STATE_MACHINE_ARN;
    if (arn === undefined || arn === '') throw new Error('SYNC_STATE_MACHINE_ARN is not set: deploy the stack again');
    // This function may start only sync executions, so the starter knows no other state machine.
    workflows ??= createSfnJobs({
      client: new SFNClient({}),
      stateMachineArns: { sync: arn } as Record<WorkflowName, string>,
    });
    const outcomes = await dispatchEvent(event, { engine: (await stepPorts()).engine, workflows });
    console.log(JSON.stringify({ level: 'info', eventId: event.id, source: event.source, syncs: outcomes }));
    return outcomes;
  });
