import middy from '@middy/core';
import { validateLink } from '../lib/core/steps/validate-link';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the link workflow's ValidateLink task: runs {@link validateLink}. */
export const handler = middy<unknown>()
  .use(snapflowErrors())
  .handler(async (event) => validateLink(event, await stepPorts()));
