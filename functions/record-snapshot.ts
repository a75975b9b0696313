import middy from '@middy/core';
import { type RecordSnapshotInput, recordSnapshot } from '../lib/core/steps/record-snapshot';
import { stepPorts } from './_shared/deps';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of the sync workflow's RecordSnapshot task: runs {@link recordSnapshot}. */
export const handler = middy<RecordSnapshotInput>()
  .use(snapflowErrors())
  .handler(async (event) => recordSnapshot(event, await stepPorts()));
