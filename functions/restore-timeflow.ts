import middy from '@middy/core';
import { type RestoreTimeflowInput, restoreTimeflow } from '../lib/core/steps/restore-timeflow';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the refresh and rollback workflows' RestoreTimeflow task (undo): runs {@link restoreTimeflow}. */
export const handler = middy<RestoreTimeflowInput>()
  .use(snapflowErrors())
  .handler(async (event) => restoreTimeflow(event, await stepPorts()));
