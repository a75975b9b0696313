import middy from '@middy/core';
import { planRollback } from '../lib/core/steps/plan-rollback';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the rollback workflow's PlanRollback task: runs {@link planRollback}. */
export const handler = middy<unknown>()
  .use(snapflowErrors())
  .handler(async (event) => planRollback(event, await stepPorts()));
