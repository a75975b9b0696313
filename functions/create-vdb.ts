import middy from '@middy/core';
import { type CreateVdbInput, createVdb } from '../lib/core/steps/create-vdb';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the provision workflow's CreateVdb task: runs {@link createVdb}. */
export const handler = middy<CreateVdbInput>()
  .use(snapflowErrors())
  .handler(async (event) => createVdb(event, await stepPorts()));
