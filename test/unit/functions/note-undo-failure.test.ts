import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler } from '../../../functions/note-undo-failure';

const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 1000 } as unknown as Context;

describe('note-undo-failure handler', () => {
  it('answers the original error with the undo failure appended to its cause', async () => {
    const cause = JSON.stringify({ errorType: 'CopyFailedError', errorMessage: 'rsync failed\nAction: Check.' });

    const noted = await handler(
      {
        error: { Error: 'CopyFailedError', Cause: cause },
        undoError: { Error: 'MountPointBusyError', Cause: 'busy' },
      },
      context,
    );

    expect(noted).toEqual({
      Error: 'CopyFailedError',
      Cause: `${cause} (undo failed too, clean up by hand: MountPointBusyError: busy)`,
    });
  });
});
