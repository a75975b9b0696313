import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { createSfnJobs } from '../lib/adapters/sfn-jobs';
import type { WorkflowStarter } from '../lib/api/api-ports';
import { type RunOutcome, startRuns } from '../lib/api/dispatch-entries';
import type { EventBridgeEvent } from '../lib/core/event-patterns';
import type { EngineApi } from '../lib/core/ports';
import { retentionRun } from '../lib/core/triggered-runs';
import type { WorkflowName } from '../lib/core/workflow-inputs';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/**
 * Starts the `retention` workflow for every dSource and VDB, for the retention schedule's run at
 * `event.time` (the scheduled time of a scheduled rule's event), and says what became of each run.
 */
export async function runRetention(
  event: Pick<EventBridgeEvent, 'time'>,
  { engine, workflows }: { engine: EngineApi; workflows: WorkflowStarter },
): Promise<Pick<RunOutcome, 'jobId' | 'outcome'>[]> {
  const [dsources, vdbs] = await Promise.all([engine.listDSources(), engine.listVdbs()]);
  const runs = [...dsources, ...vdbs].map((dataset) => retentionRun(dataset.id, event.time));
  const outcomes = await startRuns(workflows, 'retention', runs);
  return outcomes.map(({ jobId, outcome }) => ({ jobId, outcome }));
}

let workflows: WorkflowStarter | undefined;

/** Lambda entry of the daily retention rule: runs {@link runRetention} and logs what it started. */
export const handler = middy<EventBridgeEvent>()
  .use(snapflowErrors())
  .handler(async (event) => {
    const arn = process.env.RETENTION_STATE_MACHINE_ARN;
    if (arn === undefined || arn === '')
      throw new Error('RETENTION_STATE_MACHINE_ARN is not set: deploy the stack again');
    // This function may start only retention executions, so the starter knows no other state machine.
    workflows ??= createSfnJobs({
      client: new SFNClient({}),
      stateMachineArns: { retention: arn } as Record<WorkflowName, string>,
    });
    const outcomes = await runRetention(event, { engine: (await stepPorts()).engine, workflows });
    console.log(JSON.stringify({ level: 'info', scheduledTime: event.time, runs: outcomes }));
    return outcomes;
  });
