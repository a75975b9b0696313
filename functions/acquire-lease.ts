import middy from '@middy/core';
import { type AcquireLeaseInput, acquireLease } from '../lib/core/steps/dataset-lease';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the AcquireLease task that starts every workflow changing a dataset: runs {@link acquireLease}. */
export const handler = middy<AcquireLeaseInput>()
  .use(snapflowErrors())
  .handler(async (event) => acquireLease(event, await stepPorts()));
