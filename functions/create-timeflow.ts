import middy from '@middy/core';
import { type CreateTimeflowInput, createTimeflow } from '../lib/core/steps/create-timeflow';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the refresh and rollback workflows' CreateTimeflow task: runs {@link createTimeflow}. */
export const handler = middy<CreateTimeflowInput>()
  .use(snapflowErrors())
  .handler(async (event) => createTimeflow(event, await stepPorts()));
