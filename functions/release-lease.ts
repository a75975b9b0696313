import middy from '@middy/core';
import { releaseLease } from '../lib/core/steps/dataset-lease';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the ReleaseLease tasks that end every workflow changing a dataset: runs {@link releaseLease}. */
export const handler = middy<{ datasetId: string; holder: string }>()
  .use(snapflowErrors())
  .handler(async (event) => releaseLease(event, await stepPorts()));
