import middy from '@middy/core';
import { createDSource } from '../lib/core/steps/create-dsource';
import type { LinkInput } from '../lib/core/workflow-inputs';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the link workflow's CreateDSource task: runs {@link createDSource}. */
export const handler = middy<LinkInput>()
  .use(snapflowErrors())
  .handler(async (event) => createDSource(event, await stepPorts()));
