import { describe, expect, it } from 'vitest';
import { type HostCommandFailure, raiseHostError } from '../../../../lib/core/steps/raise-host-error';

const failure = (invocation: Partial<HostCommandFailure['invocation']>): HostCommandFailure => ({
  document: 'check-mount-point',
  hostId: 'i-0target',
  invocation: { Status: 'Failed', ResponseCode: 1, StandardOutputContent: '', StandardErrorContent: '', ...invocation },
  fields: { MountPath: 'virtualSource.mountLocation' },
});

describe('raiseHostError', () => {
  it('throws the error the script reported, naming the request field', async () => {
    const input = failure({
      StandardErrorContent: 'snapflow-error: MountPointNotEmptyError: MountPath /mnt/x is not empty\n',
    });

    await expect(raiseHostError(input)).rejects.toMatchObject({
      name: 'MountPointNotEmptyError',
      message: 'virtualSource.mountLocation /mnt/x is not empty (host i-0target)',
      field: 'virtualSource.mountLocation',
      action: expect.stringContaining('empty'),
      output: 'snapflow-error: MountPointNotEmptyError: MountPath /mnt/x is not empty',
    });
  });

  it('uses the last snapflow-error line', async () => {
    const stderr = [
      'snapflow-error: MountPointBusyError: MountPath /mnt/x is busy',
      'snapflow-error: CopyFailedError: rsync from /srv failed with exit code 23',
    ].join('\n');

    await expect(raiseHostError(failure({ StandardErrorContent: stderr }))).rejects.toMatchObject({
      name: 'CopyFailedError',
      message: 'rsync from /srv failed with exit code 23 (host i-0target)',
    });
  });

  it('throws HostCommandFailedError when the script reported no error line', async () => {
    const input = failure({ ResponseCode: 2, StandardErrorContent: 'ls: cannot open directory: Permission denied\n' });

    await expect(raiseHostError(input)).rejects.toMatchObject({
      name: 'HostCommandFailedError',
      message: 'The check-mount-point command on host i-0target ended Failed with exit code 2',
      output: 'ls: cannot open directory: Permission denied',
    });
  });

  it('throws HostCommandFailedError for a name Snapflow does not know, keeping the message', async () => {
    const input = failure({ StandardErrorContent: 'snapflow-error: DiskOnFireError: MountPath /mnt/x smokes\n' });

    await expect(raiseHostError(input)).rejects.toMatchObject({
      name: 'HostCommandFailedError',
      message: expect.stringContaining('DiskOnFireError: MountPath /mnt/x smokes'),
    });
  });

  it('throws HostCommandTimedOutError when SSM timed the command out', async () => {
    const input = failure({ Status: 'TimedOut', ResponseCode: -1 });

    await expect(raiseHostError(input)).rejects.toMatchObject({
      name: 'HostCommandTimedOutError',
      message: 'The check-mount-point command on host i-0target timed out',
      action: expect.stringContaining('SSM agent'),
    });
  });

  it('keeps only the tail of long output', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');

    const error = await raiseHostError(failure({ StandardErrorContent: lines })).catch((e: unknown) => e);

    expect(error).toMatchObject({ output: expect.stringMatching(/^line 80\n[\s\S]*line 99$/) });
  });

  it('falls back to standard output when standard error is empty', async () => {
    const input = failure({ StandardOutputContent: 'mount: only root can do that\n' });

    await expect(raiseHostError(input)).rejects.toMatchObject({ output: 'mount: only root can do that' });
  });
});
