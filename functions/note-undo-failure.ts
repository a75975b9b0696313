import middy from '@middy/core';
import { type NoteUndoFailureInput, noteUndoFailure } from '../lib/core/steps/note-undo-failure';
import { snapflowErrors } from './_shared/middleware/snapflow-errors';

/** Lambda entry of every workflow's Note…Failure tasks, after an undo step failed: runs {@link noteUndoFailure}. */
export const handler = middy<NoteUndoFailureInput>()
  .use(snapflowErrors())
  .handler(async (event) => noteUndoFailure(event));
