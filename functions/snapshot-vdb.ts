import middy from '@middy/core';
import { type SnapshotVdbStepInput, snapshotVdb } from '../lib/core/steps/snapshot-vdb';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the snapshot-vdb workflow's SnapshotVdb task, and of provision's first snapshot: runs {@link snapshotVdb}. */
export const handler = middy<SnapshotVdbStepInput>()
  .use(snapflowErrors())
  .handler(async (event) => snapshotVdb(event, await stepPorts()));
