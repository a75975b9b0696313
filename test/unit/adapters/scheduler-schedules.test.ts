import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ThrottlingException,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSchedulerSchedules,
  SCHEDULED_TIME,
  schedulerSettingsFromEnv,
  snapshotScheduleName,
} from '../../../lib/adapters/scheduler-schedules';
import { formatScheduledTime } from '../../../lib/core/cron-schedule';
import type { ScheduledDataset } from '../../../lib/core/schedules-port';
import { DEFAULT_RETENTION } from '../../../lib/core/snapshot-policy';
import { validate } from '../../../lib/core/validate';
import { snapshotVdbInputSchema, syncInputSchema } from '../../../lib/core/workflow-inputs';

const scheduler = mockClient(SchedulerClient);
afterEach(() => scheduler.reset());

const settings = {
  groupName: 'Snapflow-ScheduleTriggersGroup',
  roleArn: 'arn:aws:iam::123456789012:role/SnapflowScheduler',
  stateMachineArns: {
    sync: 'arn:aws:states:us-east-1:123456789012:stateMachine:Sync',
    'snapshot-vdb': 'arn:aws:states:us-east-1:123456789012:stateMachine:SnapshotVdb',
  },
};
const schedules = () => createSchedulerSchedules({ client: new SchedulerClient({}), ...settings });
const dsource: ScheduledDataset = {
  id: 'ds-00000000000000d1',
  kind: 'dsource',
  policy: { schedule: { cron: '30 2 * * 1-5', timeZone: 'Europe/Berlin' }, retention: { ...DEFAULT_RETENTION } },
};
const vdb: ScheduledDataset = {
  id: 'vdb-00000000000000b1',
  kind: 'vdb',
  policy: { schedule: { cron: '0 */6 * * *', timeZone: 'UTC' }, retention: { ...DEFAULT_RETENTION } },
};
/** What the SDK's exceptions need: Scheduler's models carry `Message` besides `message`. */
const failure = (message: string) => ({ message, Message: message, $metadata: {} });

describe('createSchedulerSchedules', () => {
  it("creates a dSource's schedule: its cron for Scheduler in its time zone, starting a sync", async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });

    await schedules().apply(dsource);

    const request = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(request).toEqual({
      Name: 'snapshot-ds-00000000000000d1',
      GroupName: settings.groupName,
      Description: expect.stringContaining('ds-00000000000000d1'),
      ScheduleExpression: 'cron(30 2 ? * 2-6 *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      ActionAfterCompletion: 'NONE',
      Target: { Arn: settings.stateMachineArns.sync, RoleArn: settings.roleArn, Input: expect.any(String) },
    });
    expect(JSON.parse(request?.Target?.Input ?? '')).toEqual({
      dsourceId: 'ds-00000000000000d1',
      snapshotParameters: { resync: false },
      trigger: { kind: 'schedule', id: 'ds-00000000000000d1@<aws.scheduler.scheduled-time>' },
    });
  });

  it("starts a VDB's snapshot-vdb workflow", async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });

    await schedules().apply(vdb);

    const request = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(request?.ScheduleExpression).toBe('cron(0 0/6 * * ? *)');
    expect(request?.Target?.Arn).toBe(settings.stateMachineArns['snapshot-vdb']);
    expect(JSON.parse(request?.Target?.Input ?? '')).toEqual({
      vdbId: 'vdb-00000000000000b1',
      trigger: { kind: 'schedule', id: 'vdb-00000000000000b1@<aws.scheduler.scheduled-time>' },
    });
  });

  it('gives the workflow an input it accepts once Scheduler fills in the scheduled time', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });
    const filled = (input: string | undefined) =>
      JSON.parse((input ?? '').replaceAll(SCHEDULED_TIME, formatScheduledTime(new Date('2026-11-23T01:30:00Z'))));

    await schedules().apply(dsource);
    await schedules().apply(vdb);

    const [syncInput, snapshotInput] = scheduler
      .commandCalls(CreateScheduleCommand)
      .map((call) => filled(call.args[0].input.Target?.Input));
    expect(validate(syncInputSchema, syncInput, 'input')).toMatchObject({
      trigger: { id: 'ds-00000000000000d1@2026-11-23T01:30:00Z' },
    });
    expect(validate(snapshotVdbInputSchema, snapshotInput, 'input')).toBeDefined();
  });

  it('updates the schedule when it exists already', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException(failure('exists')));
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });

    await schedules().apply(dsource);

    const created = scheduler.commandCalls(CreateScheduleCommand)[0]?.args[0].input;
    expect(scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input).toEqual(created);
  });

  it('deletes the schedule when the policy has none, and a missing one is fine', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(new ResourceNotFoundException(failure('gone')));

    await schedules().apply({ ...dsource, policy: { ...dsource.policy, schedule: null } });
    await schedules().remove('vdb-00000000000000b1');

    expect(scheduler.commandCalls(DeleteScheduleCommand).map((call) => call.args[0].input)).toEqual([
      { Name: 'snapshot-ds-00000000000000d1', GroupName: settings.groupName },
      { Name: 'snapshot-vdb-00000000000000b1', GroupName: settings.groupName },
    ]);
    expect(scheduler.commandCalls(CreateScheduleCommand)).toEqual([]);
  });

  it('names the errors: Validation for a refused schedule, EngineUnavailable for throttling', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ValidationException(failure('bad zone')));
    await expect(schedules().apply(dsource)).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'policy.schedule',
    });

    scheduler.reset();
    scheduler.on(CreateScheduleCommand).rejects(new ThrottlingException(failure('slow down')));
    await expect(schedules().apply(dsource)).rejects.toMatchObject({ name: 'EngineUnavailableError' });

    scheduler.on(DeleteScheduleCommand).rejects(new ThrottlingException(failure('slow down')));
    await expect(schedules().remove('ds-00000000000000d1')).rejects.toMatchObject({ name: 'EngineUnavailableError' });
  });

  it('refuses a policy whose cron Scheduler could not run, before calling it', async () => {
    const bad = { ...dsource, policy: { ...dsource.policy, schedule: { cron: '0 2 1 * 1', timeZone: 'UTC' } } };

    await expect(schedules().apply(bad)).rejects.toMatchObject({
      name: 'ValidationError',
      field: 'policy.schedule.cron',
    });
    expect(scheduler.calls()).toEqual([]);
  });
});

describe('snapshotScheduleName', () => {
  it("fits Scheduler's name rules for every dataset id", () => {
    expect(snapshotScheduleName('vdb-0123456789abcdef')).toMatch(/^[0-9a-zA-Z-_.]{1,64}$/);
  });
});

describe('schedulerSettingsFromEnv', () => {
  it('reads the variables bindScheduler sets', () => {
    expect(
      schedulerSettingsFromEnv({
        SCHEDULE_GROUP_NAME: settings.groupName,
        SCHEDULER_ROLE_ARN: settings.roleArn,
        SCHEDULE_TARGET_ARNS: JSON.stringify(settings.stateMachineArns),
      }),
    ).toEqual(settings);
  });

  it('names what is missing', () => {
    expect(() => schedulerSettingsFromEnv({})).toThrow(/SCHEDULE_TARGET_ARNS is not set/);
    expect(() => schedulerSettingsFromEnv({ SCHEDULE_TARGET_ARNS: JSON.stringify(settings.stateMachineArns) })).toThrow(
      /SCHEDULE_GROUP_NAME is not set/,
    );
  });
});
