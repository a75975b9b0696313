import { describe, expect, it } from 'vitest';
import { describeCause, formatErrorText, parseErrorText, withUndoNote } from '../../../lib/core/error-text';

/** A Lambda error document, as Step Functions hands over a Snapflow function's failure. */
const lambdaCause = (errorMessage: string) =>
  JSON.stringify({ errorType: 'CopyFailedError', errorMessage, trace: ['CopyFailedError: …', '    at copy'] });

describe('formatErrorText', () => {
  it('writes the message, the action and the output on lines of their own', () => {
    expect(formatErrorText({ message: '/mnt/x is not empty', action: 'Empty it.', output: 'ls: a\nb' })).toBe(
      '/mnt/x is not empty\nAction: Empty it.\nOutput:\nls: a\nb',
    );
  });

  it('is read back by parseErrorText, with or without output', () => {
    const withOutput = { message: 'rsync exited with 23', action: 'Check the path.', output: 'rsync: failed\n' };
    const withoutOutput = { message: 'the mount failed', action: 'Check the host.' };

    expect(parseErrorText(formatErrorText(withOutput))).toEqual(withOutput);
    expect(parseErrorText(formatErrorText(withoutOutput))).toEqual(withoutOutput);
  });
});

describe('parseErrorText', () => {
  it('takes a text without an action as all message', () => {
    expect(parseErrorText('x is undefined')).toEqual({ message: 'x is undefined' });
  });
});

describe('describeCause', () => {
  it("reads a Lambda cause's message and action, leaving the output out", () => {
    expect(describeCause(lambdaCause('rsync exited with 23\nAction: Check the path.\nOutput:\nrsync: failed'))).toEqual(
      {
        message: 'rsync exited with 23',
        action: 'Check the path.',
      },
    );
  });

  it('keeps the note of an undo that failed too, after the message', () => {
    const cause = withUndoNote(lambdaCause('the mount failed\nAction: Check the host.'), 'StorageError', '{"a":"b"}');

    expect(describeCause(cause)).toEqual({
      message: 'the mount failed (undo failed too, clean up by hand: StorageError: {"a":"b"})',
      action: 'Check the host.',
    });
  });

  it("unwraps a child execution's cause, its own undo note included", () => {
    const childCause = withUndoNote(lambdaCause('clone failed\nAction: Retry.'), 'MountPointBusyError', 'busy');
    const child = JSON.stringify({ Error: 'CopyFailedError', Cause: childCause });

    expect(describeCause(withUndoNote(child, 'StorageError', 'gone'))).toEqual({
      message:
        'clone failed (undo failed too, clean up by hand: MountPointBusyError: busy) (undo failed too, clean up by hand: StorageError: gone)',
      action: 'Retry.',
    });
  });

  it("takes a Fail state's plain cause as the message, without an action", () => {
    expect(describeCause('The execution ran longer than its TimeoutSeconds')).toEqual({
      message: 'The execution ran longer than its TimeoutSeconds',
    });
  });
});
