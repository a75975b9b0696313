import { describe, expect, it } from 'vitest';
import { describeJobError } from '../../../lib/api/describe-job-error';

const lambdaCause = (errorMessage: string) =>
  JSON.stringify({ errorType: 'CopyFailedError', errorMessage, trace: ['CopyFailedError: …', '    at copy'] });

describe('describeJobError', () => {
  it('splits the action and drops the output from a Lambda cause', () => {
    expect(
      describeJobError({
        name: 'CopyFailedError',
        cause: lambdaCause('rsync exited with 23\nAction: Check the source path.\nOutput:\nrsync: link_stat failed'),
      }),
    ).toEqual({ code: 'CopyFailedError', message: 'rsync exited with 23', action: 'Check the source path.' });
  });

  it("unwraps a nested execution's cause", () => {
    const child = JSON.stringify({
      ExecutionArn: 'arn:aws:states:us-east-1:123456789012:execution:Sync:x',
      Error: 'CopyFailedError',
      Cause: lambdaCause('rsync exited with 23\nAction: Check the source path.'),
    });

    expect(describeJobError({ name: 'CopyFailedError', cause: child })).toEqual({
      code: 'CopyFailedError',
      message: 'rsync exited with 23',
      action: 'Check the source path.',
    });
  });

  it('keeps the note of an undo that failed too', () => {
    const cause = `${lambdaCause('the mount failed\nAction: Check the host.')} (undo failed too, clean up by hand: StorageError: {"errorMessage":"busy"})`;

    expect(describeJobError({ name: 'HostCommandFailedError', cause })).toEqual({
      code: 'HostCommandFailedError',
      message: 'the mount failed (undo failed too, clean up by hand: StorageError: {"errorMessage":"busy"})',
      action: 'Check the host.',
    });
  });

  it('takes a Fail state’s plain cause as the message, with a general action', () => {
    expect(
      describeJobError({ name: 'States.Timeout', cause: 'The execution ran longer than its TimeoutSeconds' }),
    ).toEqual({
      code: 'States.Timeout',
      message: 'The execution ran longer than its TimeoutSeconds',
      action: 'The workflow ran out of time; look at the step it was on, then run it again.',
    });
  });
});
