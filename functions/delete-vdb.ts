import middy from '@middy/core';
import { deleteVdb } from '../lib/core/steps/delete-vdb';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the DeleteVdb tasks (provision's undo, delete-vdb): runs {@link deleteVdb}. */
export const handler = middy<{ vdbId: string }>()
  .use(snapflowErrors())
  .handler(async (event) => deleteVdb(event, await stepPorts()));
