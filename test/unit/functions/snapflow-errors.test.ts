import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type ErrorLogEntry, snapflowErrors } from '../../../functions/_shared/middleware/snapflow-errors';
import { ErrorNames, SnapflowError } from '../../../lib/core/errors';

const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 1000 } as unknown as Context;

function failing(error: Error) {
  const logged: ErrorLogEntry[] = [];
  const handler = middy<{ secret: string }>({ timeoutEarlyInMillis: 0 })
    .use(snapflowErrors({ log: (entry) => logged.push(entry) }))
    .handler(async () => {
      throw error;
    });
  return { handler, logged };
}

describe('snapflowErrors', () => {
  it('keeps a SnapflowError name and puts the action and output into the message', async () => {
    const { handler, logged } = failing(
      new SnapflowError(ErrorNames.MountPointNotEmpty, '/mnt/x is not empty', {
        action: 'Empty it.',
        field: 'virtualSource.mountLocation',
        output: 'snapflow-error: ...',
      }),
    );

    const error = await handler({ secret: 'hunter2' }, context).catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: 'MountPointNotEmptyError',
      message: '/mnt/x is not empty\nAction: Empty it.\nOutput:\nsnapflow-error: ...',
    });
    expect(logged).toEqual([
      {
        level: 'error',
        errorName: 'MountPointNotEmptyError',
        message: '/mnt/x is not empty',
        field: 'virtualSource.mountLocation',
        action: 'Empty it.',
        requestId: 'req-1',
      },
    ]);
    expect(JSON.stringify(logged)).not.toContain('hunter2');
  });

  it('lets other errors through unchanged', async () => {
    const bug = new TypeError('x is undefined');
    const { handler, logged } = failing(bug);

    await expect(handler({ secret: 'hunter2' }, context)).rejects.toBe(bug);
    expect(logged).toMatchObject([{ errorName: 'TypeError', message: 'x is undefined' }]);
  });

  it('logs a queueing error, which the workflow retries until the lease is free, as info', async () => {
    const { handler, logged } = failing(
      new SnapflowError(ErrorNames.DatasetBusy, 'dataset ds-1 is busy', { action: 'Wait.', field: 'datasetId' }),
    );

    await expect(handler({ secret: 'hunter2' }, context)).rejects.toMatchObject({ name: 'DatasetBusyError' });
    expect(logged).toMatchObject([{ level: 'info', errorName: 'DatasetBusyError' }]);
  });
});
