import middy from '@middy/core';
import { planRetention } from '../lib/core/steps/plan-retention';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the retention workflow's PlanRetention task: runs {@link planRetention}. */
export const handler = middy<unknown>()
  .use(snapflowErrors())
  .handler(async (event) => planRetention(event, await stepPorts()));
