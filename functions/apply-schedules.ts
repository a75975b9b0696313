import { SchedulerClient } from '@aws-sdk/client-scheduler';
import middy from '@middy/core';
import { createSchedulerSchedules, schedulerSettingsFromEnv } from '../lib/adapters/scheduler-schedules';
import type { EventBridgeEvent } from '../lib/core/event-patterns';
import type { EngineApi } from '../lib/core/ports';
import { type DatasetRef, datasetOfExecution, reconcileSchedule } from '../lib/core/reconcile-schedule';
import type { SchedulesPort } from '../lib/core/schedules-port';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** What {@link applySchedules} did: nothing for an execution that names no dataset. */
export type AppliedSchedule = { dataset: DatasetRef; outcome: 'applied' | 'removed' } | { dataset: undefined };

/**
 * After an execution of a workflow that creates or deletes a dataset ended (Step Functions'
 * "Execution Status Change" event), makes that dataset's schedule match the engine
 * ({@link reconcileSchedule}).
 */
export async function applySchedules(
  event: EventBridgeEvent,
  ports: { engine: EngineApi; schedules: SchedulesPort },
): Promise<AppliedSchedule> {
  const dataset = datasetOfExecution(parseJson(event.detail.input), parseJson(event.detail.output));
  if (dataset === undefined) return { dataset };
  return { dataset, outcome: await reconcileSchedule(dataset, ports) };
}

let schedules: SchedulesPort | undefined;

/** Lambda entry of the dataset-workflow-ended rule: runs {@link applySchedules} and logs what it did. */
export const handler = middy<EventBridgeEvent>()
  .use(snapflowErrors())
  .handler(async (event) => {
    schedules ??= createSchedulerSchedules({
      client: new SchedulerClient({}),
      ...schedulerSettingsFromEnv(process.env),
    });
    const applied = await applySchedules(event, { engine: (await stepPorts()).engine, schedules });
    console.log(JSON.stringify({ level: 'info', executionArn: event.detail.executionArn, ...applied }));
    return applied;
  });

/** Step Functions leaves `input` and `output` out (null) when they are too large to include. */
function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
