import middy from '@middy/core';
import { planRefresh } from '../lib/core/steps/plan-refresh';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the refresh workflow's PlanRefresh task: runs {@link planRefresh}. */
export const handler = middy<unknown>()
  .use(snapflowErrors())
  .handler(async (event) => planRefresh(event, await stepPorts()));
