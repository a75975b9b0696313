import { describe, expect, it } from 'vitest';
import { UNDO_FAILED_NOTE } from '../../../../lib/core/error-text';
import { noteUndoFailure } from '../../../../lib/core/steps/note-undo-failure';

/** A Lambda error document, as Step Functions hands over a Snapflow function's failure. */
const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({ errorType, errorMessage, trace: [`${errorType}: ${errorMessage}`, '    at handler'] });

describe('noteUndoFailure', () => {
  it("keeps the original error and its cause whole, and appends the undo's name and message", async () => {
    const cause = lambdaCause('StorageError', 'snapshot failed\nAction: Retry.');

    const noted = await noteUndoFailure({
      error: { Error: 'StorageError', Cause: cause },
      undoError: {
        Error: 'MountPointBusyError',
        Cause: lambdaCause(
          'MountPointBusyError',
          'virtualSource.mountLocation /mnt/v is still in use: target is busy (host local)\nAction: Unmount it.\nOutput:\n…',
        ),
      },
    });

    expect(noted).toEqual({
      Error: 'StorageError',
      Cause: `${cause}${UNDO_FAILED_NOTE}MountPointBusyError: virtualSource.mountLocation /mnt/v is still in use: target is busy (host local))`,
    });
    // The original cause still parses as the prefix the API reads (backslashes and all).
    expect(JSON.parse(noted.Cause.slice(0, cause.length))).toMatchObject({
      errorMessage: 'snapshot failed\nAction: Retry.',
    });
  });

  it("takes a Fail state's cause as it is", async () => {
    const noted = await noteUndoFailure({
      error: { Error: 'CopyFailedError', Cause: 'rsync failed' },
      undoError: { Error: 'HostCommandTimedOutError', Cause: 'The unmount command did not end within 180 seconds' },
    });

    expect(noted.Cause).toBe(
      'rsync failed (undo failed too, clean up by hand: HostCommandTimedOutError: The unmount command did not end within 180 seconds)',
    );
  });
});
