import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { CronSchedule } from '../core/cron-schedule';
import { ErrorNames, SnapflowError } from '../core/errors';
import type { ScheduledDataset, SchedulesPort } from '../core/schedules-port';
import { scheduledSnapshotRun } from '../core/triggered-runs';

/** Where the schedules go and what they may start; the stack passes these to the function's environment. */
export interface SchedulerSettings {
  /** The schedule group every dataset's schedule is in. */
  groupName: string;
  /** The role EventBridge Scheduler takes to start executions. */
  roleArn: string;
  /** The state machines the schedules start: `sync` for dSources, `snapshot-vdb` for VDBs. */
  stateMachineArns: { readonly sync: string; readonly 'snapshot-vdb': string };
}

/** Options of {@link createSchedulerSchedules}. */
export interface SchedulerSchedulesOptions extends SchedulerSettings {
  client: SchedulerClient;
}

/** What Scheduler writes into a target's input at each run, in the format of `formatScheduledTime`. */
export const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

/** SDK errors that a later call may not meet. */
const TRANSIENT_ERRORS = new Set(['ThrottlingException', 'InternalServerException', 'ServiceQuotaExceededException']);

/**
 * Snapshot schedules on AWS: one EventBridge Scheduler schedule per dataset with a scheduled policy,
 * named after the dataset ({@link snapshotScheduleName}) in the Snapflow schedule group. Its cron
 * expression is the policy's, rewritten for Scheduler and read in the policy's time zone, with no
 * flexible window; its target is the `sync` (dSource) or `snapshot-vdb` (VDB) state machine,
 * started with `scheduledSnapshotRun`'s input, whose trigger id Scheduler completes with the
 * scheduled time. Scheduler names those executions itself.
 */
export function createSchedulerSchedules(options: SchedulerSchedulesOptions): SchedulesPort {
  const { client, groupName } = options;

  const remove = async (datasetId: string): Promise<void> => {
    try {
      await client.send(new DeleteScheduleCommand({ Name: snapshotScheduleName(datasetId), GroupName: groupName }));
    } catch (error) {
      if (errorName(error) !== 'ResourceNotFoundException') throw schedulerError(error, datasetId);
    }
  };

  return {
    async apply(dataset) {
      const request = scheduleRequest(options, dataset);
      if (request === undefined) return remove(dataset.id);
      try {
        await client.send(new CreateScheduleCommand(request));
      } catch (error) {
        if (errorName(error) !== 'ConflictException') throw schedulerError(error, dataset.id);
        try {
          await client.send(new UpdateScheduleCommand(request));
        } catch (updateError) {
          throw schedulerError(updateError, dataset.id);
        }
      }
    },
    remove,
  };
}

/** The name of a dataset's snapshot schedule in the group; dataset ids fit Scheduler's name rules. */
export function snapshotScheduleName(datasetId: string): string {
  return `snapshot-${datasetId}`;
}

/**
 * Reads {@link SchedulerSettings} from the variables `ScheduleTriggers.bindScheduler` sets:
 * SCHEDULE_GROUP_NAME, SCHEDULER_ROLE_ARN and SCHEDULE_TARGET_ARNS (a JSON object with the `sync`
 * and `snapshot-vdb` state machine ARNs).
 * @throws Error naming the missing variable, when the function was not bound to the scheduler
 */
export function schedulerSettingsFromEnv(env: Readonly<Record<string, string | undefined>>): SchedulerSettings {
  const read = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') throw new Error(`${name} is not set: bind the function to the scheduler`);
    return value;
  };
  const targets = JSON.parse(read('SCHEDULE_TARGET_ARNS')) as Partial<SchedulerSettings['stateMachineArns']>;
  if (typeof targets.sync !== 'string' || typeof targets['snapshot-vdb'] !== 'string')
    throw new Error('SCHEDULE_TARGET_ARNS needs the sync and snapshot-vdb ARNs: deploy the stack again');
  return {
    groupName: read('SCHEDULE_GROUP_NAME'),
    roleArn: read('SCHEDULER_ROLE_ARN'),
    stateMachineArns: { sync: targets.sync, 'snapshot-vdb': targets['snapshot-vdb'] },
  };
}

/** The CreateSchedule (and UpdateSchedule) request for a dataset, or undefined when its policy has no schedule. */
function scheduleRequest(
  settings: SchedulerSettings,
  dataset: ScheduledDataset,
): CreateScheduleCommandInput | undefined {
  const { schedule } = dataset.policy;
  if (schedule === null) return undefined;
  const cron = CronSchedule.parse(schedule.cron, schedule.timeZone, 'policy.schedule');
  const run = scheduledSnapshotRun(dataset, SCHEDULED_TIME);
  return {
    Name: snapshotScheduleName(dataset.id),
    GroupName: settings.groupName,
    Description: `Snapflow: ${run.workflow} ${dataset.id} on cron ${JSON.stringify(cron.expression)} in ${cron.timeZone}`,
    ScheduleExpression: cron.eventBridgeExpression(),
    ScheduleExpressionTimezone: cron.timeZone,
    FlexibleTimeWindow: { Mode: 'OFF' },
    State: 'ENABLED',
    ActionAfterCompletion: 'NONE',
    Target: {
      Arn: settings.stateMachineArns[run.workflow],
      RoleArn: settings.roleArn,
      Input: JSON.stringify(run.input),
    },
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function schedulerError(error: unknown, datasetId: string): unknown {
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'ValidationException')
    return new SnapflowError(
      ErrorNames.Validation,
      `EventBridge Scheduler refused the schedule of ${datasetId}: ${message}`,
      { field: 'policy.schedule', action: 'Correct policy.schedule (cron and timeZone) and apply the policy again.' },
      { cause: error },
    );
  if (name === 'ResourceNotFoundException')
    return new SnapflowError(
      ErrorNames.UnsupportedOperation,
      `the Snapflow schedule group is not deployed (${message})`,
      { action: 'Deploy the Snapflow stack again, then apply the policy again.' },
      { cause: error },
    );
  if (TRANSIENT_ERRORS.has(name))
    return new SnapflowError(
      ErrorNames.EngineUnavailable,
      `EventBridge Scheduler did not change the schedule of ${datasetId} now (${name}: ${message})`,
      { action: 'Wait a little and apply the policy again.' },
      { cause: error },
    );
  return error;
}
