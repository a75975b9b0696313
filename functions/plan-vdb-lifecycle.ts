import middy from '@middy/core';
import { type PlanVdbLifecycleInput, planVdbLifecycle } from '../lib/core/steps/plan-vdb-lifecycle';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the first task of start-vdb, stop-vdb, enable-vdb, disable-vdb and delete-vdb: runs {@link planVdbLifecycle}. */
export const handler = middy<PlanVdbLifecycleInput>()
  .use(snapflowErrors())
  .handler(async (event) => planVdbLifecycle(event, await stepPorts()));
