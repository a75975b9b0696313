import type { ApiPorts, DatasetSchedules } from '../api/api-ports';
import { startRuns } from '../api/dispatch-entries';
import type { EngineApi } from '../core/ports';
import type { ScheduledDataset } from '../core/schedules-port';
import { scheduledSnapshotRun, triggeredJobId } from '../core/triggered-runs';
import type { LocalScheduler } from './scheduler';

/** The scheduler's id for a dataset's snapshot schedule. */
export function snapshotScheduleId(datasetId: string): string {
  return `snapshot ${datasetId}`;
}

/**
 * Local mode's snapshot schedules: one {@link LocalScheduler} schedule per dataset whose policy has
 * one, starting what the same schedule starts on AWS (`scheduledSnapshotRun`: a sync of a dSource, a
 * snapshot of a VDB) with the trigger id `<datasetId>@<scheduled time>`. Each run's job id is made
 * from the dataset and the scheduled time, so one due time starts one job at most.
 */
export class LocalSchedules implements DatasetSchedules {
  constructor(private readonly options: { scheduler: LocalScheduler; ports: Pick<ApiPorts, 'workflows'> }) {}

  /** Applies the policy of every dSource and VDB the engine has, as `up` does when it starts. */
  async applyAll(engine: Pick<EngineApi, 'listDSources' | 'listVdbs'>): Promise<void> {
    const [dsources, vdbs] = await Promise.all([engine.listDSources(), engine.listVdbs()]);
    for (const dsource of dsources) await this.apply({ id: dsource.id, kind: 'dsource', policy: dsource.policy });
    for (const vdb of vdbs) await this.apply({ id: vdb.id, kind: 'vdb', policy: vdb.policy });
  }

  async apply(dataset: ScheduledDataset): Promise<void> {
    const { schedule } = dataset.policy;
    if (schedule === null) {
      await this.remove(dataset.id);
      return;
    }
    this.options.scheduler.set({
      id: snapshotScheduleId(dataset.id),
      cron: schedule.cron,
      timeZone: schedule.timeZone,
      fire: async ({ scheduledTime }) => {
        const run = scheduledSnapshotRun(dataset, scheduledTime);
        const jobId = triggeredJobId(run.workflow, [dataset.id, scheduledTime]);
        await startRuns(this.options.ports.workflows, run.workflow, [{ jobId, input: run.input }]);
      },
    });
  }

  async remove(datasetId: string): Promise<void> {
    this.options.scheduler.remove(snapshotScheduleId(datasetId));
  }

  nextRunAt(datasetId: string): Date | undefined {
    const id = snapshotScheduleId(datasetId);
    return this.options.scheduler.list().find((schedule) => schedule.id === id)?.nextRunAt ?? undefined;
  }
}
