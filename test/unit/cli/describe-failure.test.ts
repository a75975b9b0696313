import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../../lib/cli/describe-failure';

describe('describeFailure', () => {
  it('shows a Lambda error message without its trace', () => {
    const cause = JSON.stringify({
      errorType: 'NotFoundError',
      errorMessage: 'snapshotId x does not exist',
      trace: ['at y'],
    });
    expect(describeFailure({ name: 'NotFoundError', cause })).toBe('NotFoundError: snapshotId x does not exist');
  });

  it('unwraps a nested execution failure', () => {
    const inner = JSON.stringify({ errorType: 'CopyFailedError', errorMessage: 'rsync exited with 23' });
    const cause = JSON.stringify({ Error: 'CopyFailedError', Cause: inner });
    expect(describeFailure({ name: 'CopyFailedError', cause })).toBe('CopyFailedError: rsync exited with 23');
  });

  it('keeps a plain-text cause', () => {
    expect(describeFailure({ name: 'HostCommandTimedOutError', cause: 'copy took longer than 3600 s' })).toBe(
      'HostCommandTimedOutError: copy took longer than 3600 s',
    );
  });
});
