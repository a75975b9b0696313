import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createSchedulerSchedules, schedulerSettingsFromEnv } from '../lib/adapters/scheduler-schedules';
import { createSfnJobs } from '../lib/adapters/sfn-jobs';
import { fromProxyEvent, toProxyResult } from '../lib/api/api-gateway-event';
import type { DatasetSchedules } from '../lib/api/api-ports';
import { errorResponse, handleRequest } from '../lib/api/handle-request';
import { ErrorNames, SnapflowError } from '../lib/core/errors';
import type { SchedulesPort } from '../lib/core/schedules-port';
import { type WorkflowName, workflowInputSchemas } from '../lib/core/workflow-inputs';
import { stepPorts } from './_shared/deps';

let jobs: ReturnType<typeof createSfnJobs> | undefined;
let scheduler: SchedulesPort | undefined;

/**
 * EventBridge Scheduler, set up on first use, so that only the routes that change a policy need the
 * scheduler settings. It cannot tell when a schedule runs next, so answers carry no next run.
 */
const schedules: DatasetSchedules = {
  apply: (dataset) => schedulerSchedules().apply(dataset),
  remove: (datasetId) => schedulerSchedules().remove(datasetId),
};

function schedulerSchedules(): SchedulesPort {
  scheduler ??= createSchedulerSchedules({ client: new SchedulerClient({}), ...schedulerSettingsFromEnv(process.env) });
  return scheduler;
}

const logUnexpected = (error: unknown) =>
  console.error(JSON.stringify({ level: 'error', message: 'request failed unexpectedly', error: String(error) }));

/**
 * Lambda entry of the REST API (proxy integration): runs {@link handleRequest} with the engine, Step
 * Functions and EventBridge Scheduler.
 */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>().handler(async (event) => {
  const request = fromProxyEvent(event);
  if (request === undefined) {
    const error = new SnapflowError(ErrorNames.NotFound, `there is no route ${event.httpMethod} ${event.resource}`, {
      action: 'See the OpenAPI document for the routes.',
    });
    return toProxyResult(errorResponse(error));
  }
  try {
    const { engine } = await stepPorts();
    jobs ??= createSfnJobs({ client: new SFNClient({}), stateMachineArns: stateMachineArns() });
    return toProxyResult(await handleRequest(request, { engine, workflows: jobs, jobs, schedules }, { logUnexpected }));
  } catch (error) {
    return toProxyResult(errorResponse(error, logUnexpected));
  }
});

/** STATE_MACHINE_ARNS, a JSON map from every workflow name to its state machine's ARN, set by the stack. */
function stateMachineArns(): Record<WorkflowName, string> {
  const arns = JSON.parse(process.env.STATE_MACHINE_ARNS ?? '{}') as Partial<Record<WorkflowName, string>>;
  const missing = Object.keys(workflowInputSchemas).filter((name) => arns[name as WorkflowName] === undefined);
  if (missing.length > 0)
    throw new Error(`STATE_MACHINE_ARNS has no ARN for ${missing.join(', ')}: deploy the stack again`);
  return arns as Record<WorkflowName, string>;
}
