import middy from '@middy/core';
import { planSync } from '../lib/core/steps/plan-sync';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the sync workflow's PlanSync task: runs {@link planSync}. */
export const handler = middy<unknown>()
  .use(snapflowErrors())
  .handler(async (event) => planSync(event, await stepPorts()));
