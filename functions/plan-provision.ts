import middy from '@middy/core';
import { planProvision } from '../lib/core/steps/plan-provision';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the provision workflow's PlanProvision task: runs {@link planProvision}. */
export const handler = middy<unknown>()
  .use(snapflowErrors())
  .handler(async (event) => planProvision(event, await stepPorts()));
