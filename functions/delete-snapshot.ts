import middy from '@middy/core';
import { deleteSnapshot } from '../lib/core/steps/delete-snapshot';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the sync workflow's DeleteSnapshot undo task and of retention's deletes: runs {@link deleteSnapshot}. */
export const handler = middy<{ snapshotId: string }>()
  .use(snapflowErrors())
  .handler(async (event) => deleteSnapshot(event, await stepPorts()));
