import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { handler } from '../../../functions/raise-host-error';

const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 1000 } as unknown as Context;

describe('raise-host-error handler', () => {
  it('fails the invocation with the error the host script named', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const event = {
      document: 'mount' as const,
      hostId: 'i-0abc',
      invocation: {
        Status: 'Failed',
        ResponseCode: 1,
        StandardOutputContent: '',
        StandardErrorContent:
          'snapflow-error: MountPointBusyError: MountPath /mnt/x already has another filesystem mounted on it\n',
      },
      fields: { MountPath: 'virtualSource.mountLocation' },
    };

    await expect(handler(event, context)).rejects.toMatchObject({
      name: 'MountPointBusyError',
      message: expect.stringMatching(/^virtualSource\.mountLocation \/mnt\/x already has .*\nAction: /),
    });
    expect(log).toHaveBeenCalledOnce();
    log.mockRestore();
  });
});
