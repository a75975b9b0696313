import middy from '@middy/core';
import { deleteDSource } from '../lib/core/steps/delete-dsource';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the DeleteDSource tasks (link's undo, delete-dsource): runs {@link deleteDSource}. */
export const handler = middy<{ dsourceId: string }>()
  .use(snapflowErrors())
  .handler(async (event) => deleteDSource(event, await stepPorts()));
