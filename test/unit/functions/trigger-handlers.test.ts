import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as applySchedules } from '../../../functions/apply-schedules';
import { handler as dispatchEvent } from '../../../functions/dispatch-event';
import { handler as runRetention } from '../../../functions/run-retention';
import type { EventBridgeEvent } from '../../../lib/core/event-patterns';
import { records } from '../../support/stub-engine';

const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;
const sfn = mockClient(SFNClient);
const scheduler = mockClient(SchedulerClient);

const SYNC_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Sync';
const SNAPSHOT_VDB_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:SnapshotVdb';
const RETENTION_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Retention';

/** The engine's HTTP API as the stub records answer it; any other path is a 404 in the engine's shape. */
const engineAnswers: Record<string, unknown> = {
  '/dsources': [records.dsource],
  '/source-configs': [records.sourceConfig],
  '/environments': [records.environment],
  '/vdbs': [records.vdb],
  [`/dsources/${records.dsource.id}`]: records.dsource,
};
const engineFetch = vi.fn(async (url: string) => {
  const path = new URL(url).pathname;
  const answer = engineAnswers[path];
  return answer === undefined
    ? new Response(JSON.stringify({ error: { code: 'NotFoundError', message: `no ${path}`, action: 'None.' } }), {
        status: 404,
      })
    : new Response(JSON.stringify(answer), { status: 200 });
});

const envelope = {
  version: '0',
  account: '123456789012',
  time: '2026-11-21T10:00:00Z',
  region: 'us-east-1',
  resources: [],
};
const sourceChanged = (detail: Record<string, unknown>, id = 'event-1'): EventBridgeEvent => ({
  ...envelope,
  id,
  source: 'snapflow',
  'detail-type': 'Source Data Changed',
  detail,
});

beforeAll(() => {
  vi.stubEnv('ENGINE_URL', 'http://engine.test:7750');
  vi.stubEnv('ENGINE_TOKEN', 'token');
  vi.stubEnv('SYNC_STATE_MACHINE_ARN', SYNC_ARN);
  vi.stubEnv('RETENTION_STATE_MACHINE_ARN', RETENTION_ARN);
  vi.stubEnv('SCHEDULE_GROUP_NAME', 'snapflow-schedules');
  vi.stubEnv('SCHEDULER_ROLE_ARN', 'arn:aws:iam::123456789012:role/Scheduler');
  vi.stubEnv('SCHEDULE_TARGET_ARNS', JSON.stringify({ sync: SYNC_ARN, 'snapshot-vdb': SNAPSHOT_VDB_ARN }));
  vi.stubGlobal('fetch', engineFetch);
});
// The handlers log as on Lambda; restoreMocks puts console back before each test, so silence it there.
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => {
  sfn.reset();
  scheduler.reset();
});
afterAll(() => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('functions/dispatch-event', () => {
  const handler = (event: EventBridgeEvent) => dispatchEvent(event, context);

  it('starts exactly one sync, with the right input, for an event naming a dSource', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution', startDate: new Date() });

    await handler(sourceChanged({ dsourceId: records.dsource.id }, 'event-42'));

    const starts = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(starts).toEqual([
      { stateMachineArn: SYNC_ARN, name: expect.stringMatching(/^sync-[0-9a-f]{16}$/), input: expect.any(String) },
    ]);
    expect(JSON.parse(starts[0]?.input ?? '')).toEqual({
      dsourceId: records.dsource.id,
      snapshotParameters: { resync: false },
      trigger: { kind: 'event', id: 'event-42' },
    });
  });

  it('starts exactly one sync for an S3 object created under the dSource event source', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution', startDate: new Date() });
    const event: EventBridgeEvent = {
      ...envelope,
      id: 'event-s3',
      source: 'aws.s3',
      'detail-type': 'Object Created',
      detail: { bucket: { name: 'app-drops' }, object: { key: 'incoming/2026-11-21.csv' } },
    };

    await handler(event);

    const starts = sfn.commandCalls(StartExecutionCommand).map((call) => JSON.parse(call.args[0].input.input ?? ''));
    expect(starts).toEqual([
      expect.objectContaining({ dsourceId: records.dsource.id, trigger: { kind: 'event', id: 'event-s3' } }),
    ]);
  });

  it('starts nothing for an event that does not match or names no dSource', async () => {
    await handler({ ...sourceChanged({ dsourceId: records.dsource.id }), source: 'other' });
    await handler(sourceChanged({ dsourceId: 'ds-000000000000dead' }));
    await handler(sourceChanged({ sourceHost: 'build-host', sourcePath: '/srv/elsewhere' }));

    expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it('takes a second delivery of the same event as already started', async () => {
    sfn
      .on(StartExecutionCommand)
      .resolvesOnce({ executionArn: 'arn:execution', startDate: new Date() })
      .rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const event = sourceChanged({ dsourceId: records.dsource.id }, 'event-twice');

    const first = await handler(event);
    const second = await handler(event);

    expect(first).toEqual([{ jobId: expect.any(String), outcome: 'started' }]);
    expect(second).toEqual([{ jobId: (first as { jobId: string }[])[0]?.jobId, outcome: 'alreadyStarted' }]);
    const names = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input.name);
    expect(new Set(names).size).toBe(1);
  });
});

describe('functions/apply-schedules', () => {
  const handler = (event: EventBridgeEvent) => applySchedules(event, context);
  const ended = (input: unknown, output: unknown = null): EventBridgeEvent => ({
    ...envelope,
    id: 'status-1',
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail: {
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Link:link-0123456789abcdef',
      status: 'SUCCEEDED',
      input: JSON.stringify(input),
      output: output === null ? null : JSON.stringify(output),
    },
  });

  it('creates the schedule of a dSource a link created', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });

    await handler(ended({ dsourceId: records.dsource.id, name: 'app' }));

    const created = scheduler.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input);
    expect(created).toEqual([
      expect.objectContaining({
        Name: `snapshot-${records.dsource.id}`,
        GroupName: 'snapflow-schedules',
        ScheduleExpression: 'cron(0 2 * * ? *)',
        ScheduleExpressionTimezone: 'Europe/Berlin',
        Target: expect.objectContaining({ Arn: SYNC_ARN }),
      }),
    ]);
  });

  it('deletes the schedule of a dataset that is gone', async () => {
    scheduler.on(DeleteScheduleCommand).resolves({});

    await handler(ended({ vdbId: 'vdb-000000000000dead' }));

    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual([
      { Name: 'snapshot-vdb-000000000000dead', GroupName: 'snapflow-schedules' },
    ]);
  });
});

describe('functions/run-retention', () => {
  const scheduled: EventBridgeEvent = {
    ...envelope,
    id: 'scheduled-1',
    source: 'aws.events',
    'detail-type': 'Scheduled Event',
    time: '2026-11-22T03:15:00Z',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/Snapflow-RetentionTriggerDaily'],
    detail: {},
  };

  it('starts one retention run per dSource and VDB, for real, named by the dataset and the scheduled time', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution', startDate: new Date() });

    await runRetention(scheduled, context);
    await runRetention(scheduled, context);

    const starts = sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(starts.map((start) => JSON.parse(start.input ?? ''))).toEqual(
      [records.dsource.id, records.vdb.id, records.dsource.id, records.vdb.id].map((datasetId) => ({
        datasetId,
        dryRun: false,
        trigger: { kind: 'schedule', id: `${datasetId}@2026-11-22T03:15:00Z` },
      })),
    );
    expect(new Set(starts.map((start) => start.stateMachineArn))).toEqual(new Set([RETENTION_ARN]));
    expect(starts.map((start) => start.name).slice(2)).toEqual(starts.map((start) => start.name).slice(0, 2));
  });
});
