import middy from '@middy/core';
import { planDeleteDSource } from '../lib/core/steps/plan-delete-dsource';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the delete-dsource workflow's PlanDeleteDSource task: runs {@link planDeleteDSource}. */
export const handler = middy<unknown>()
  .use(snapflowErrors())
  .handler(async (event) => planDeleteDSource(event, await stepPorts()));
