import middy from '@middy/core';
import { type UpdateVdbStateInput, updateVdbState } from '../lib/core/steps/update-vdb-state';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the UpdateVdbState tasks (provision, refresh, rollback, start, stop, enable, disable and their undos): runs {@link updateVdbState}. */
export const handler = middy<UpdateVdbStateInput>()
  .use(snapflowErrors())
  .handler(async (event) => updateVdbState(event, await stepPorts()));
