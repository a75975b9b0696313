import middy from '@middy/core';
import { type ConfigureVdbInput, configureVdb } from '../lib/core/steps/configure-vdb';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the provision workflow's ConfigureVdb task: runs {@link configureVdb}. */
export const handler = middy<ConfigureVdbInput>()
  .use(snapflowErrors())
  .handler(async (event) => configureVdb(event, await stepPorts()));
