import middy from '@middy/core';
import { type HostCommandFailure, raiseHostError } from '../lib/core/steps/raise-host-error';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of every Run Command fragment's RaiseHostError task: runs {@link raiseHostError}. */
export const handler = middy<HostCommandFailure>()
  .use(snapflowErrors())
  .handler(async (event) => raiseHostError(event));
