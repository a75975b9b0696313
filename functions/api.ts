import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createSfnJobs } from '../lib/adapters/sfn-jobs';
import { fromProxyEvent, toProxyResult } from '../lib/api/api-gateway-event';
import { errorResponse, handleRequest } from '../lib/api/handle-request';
import { ErrorNames, SnapflowError } from '../lib/core/errors';
import { type WorkflowName, workflowInputSchemas } from '../lib/core/workflow-inputs';
import { stepPorts } from './_shared/deps';

let jobs: ReturnType<typeof createSfnJobs> | undefined;

const logUnexpected = (error: unknown) =>
  console.error(JSON.stringify({ level: 'error', message: 'request failed unexpectedly', error: String(error) }));

/** Lambda entry of the REST API (proxy integration): runs {@link handleRequest} with the engine and Step Functions. */
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
    return toProxyResult(await handleRequest(request, { engine, workflows: jobs, jobs }, { logUnexpected }));
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
