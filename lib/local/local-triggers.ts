import type { ApiPorts, Job } from '../api/api-ports';
import { dispatchEntries, sourceChangedEntry, startRuns } from '../api/dispatch-entries';
import type { Environment } from '../core/model';
import { datasetOfExecution, reconcileSchedule } from '../core/reconcile-schedule';
import { retentionRun } from '../core/triggered-runs';
import type { WorkflowName } from '../core/workflow-inputs';
import { RETENTION_CRON } from '../infra/triggers/retention-trigger';
import { LocalSchedules } from './local-schedules';
import { LocalScheduler, type SchedulerClock, type SchedulerEvent } from './scheduler';
import { SourceWatch } from './source-watch';

/** Options of {@link LocalTriggers.start}. */
export interface LocalTriggersOptions {
  /** The engine and the jobs the triggers start. */
  ports: Pick<ApiPorts, 'engine' | 'workflows' | 'jobs'>;
  /** This machine: `watch` covers the source configs on it. */
  environment: Environment;
  /** Watch the source path of every dSource linked from this machine, and sync it when it changes. */
  watch: boolean;
  /** Told what the triggers do and what fails, a line each. */
  log: (line: string) => void;
  /** @default the machine's clock */
  clock?: SchedulerClock;
}

/** The scheduler's id of the daily retention run. */
export const RETENTION_SCHEDULE_ID = 'retention';

/** Workflows after which a dataset may have come or gone, so its schedule (and watch) is brought in line. */
const DATASET_WORKFLOWS: ReadonlySet<WorkflowName> = new Set(['link', 'provision', 'delete-dsource', 'delete-vdb']);

/**
 * What starts runs in local mode besides the API: the snapshot schedules of every dataset's policy
 * (a {@link LocalScheduler}, with the cron semantics of EventBridge Scheduler), a daily retention run
 * of every dSource and VDB, and with `watch` a debounced watch on each local dSource's source path
 * that puts the same "Source Data Changed" event `POST /events` takes, through the same dispatch.
 * Schedules follow policy changes through {@link schedules} (the API's schedules port) and datasets
 * that come and go through {@link jobEnded}.
 */
export class LocalTriggers {
  /** The API's schedules port in local mode. */
  readonly schedules: LocalSchedules;
  private readonly scheduler: LocalScheduler;
  private readonly sourceWatch?: SourceWatch;
  /** Schedule changes after jobs that ended, not yet done; close waits for them. */
  private readonly reconciling = new Set<Promise<void>>();
  private closed = false;

  private constructor(private readonly options: LocalTriggersOptions) {
    this.scheduler = new LocalScheduler({
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      onEvent: (event) => {
        // A run that fired either started its job (finished) or failed to; one line says which.
        if (event.kind !== 'fired') options.log(describeSchedulerEvent(event));
      },
    });
    this.schedules = new LocalSchedules({ scheduler: this.scheduler, ports: options.ports });
    this.scheduler.set({
      id: RETENTION_SCHEDULE_ID,
      cron: RETENTION_CRON,
      timeZone: 'UTC',
      fire: ({ scheduledTime }) => this.runRetention(scheduledTime),
    });
    if (options.watch)
      this.sourceWatch = new SourceWatch({
        onChange: (path) => this.sourceChanged(path),
        onError: (path, error) => options.log(`watch: cannot watch ${path}: ${message(error)}`),
      });
  }

  /** Applies the schedule of every dataset's policy and, with `watch`, starts watching the sources. */
  static async start(options: LocalTriggersOptions): Promise<LocalTriggers> {
    const triggers = new LocalTriggers(options);
    await triggers.schedules.applyAll(options.ports.engine);
    await triggers.refreshWatch();
    return triggers;
  }

  /** The source paths being watched. */
  watchedPaths(): string[] {
    return this.sourceWatch?.paths() ?? [];
  }

  /**
   * Brings the schedule (and the watch) of the dataset a link, provision or delete acted on in line
   * with the engine, however the job ended: a new dataset gets its policy's schedule, a deleted one
   * loses it. Other jobs change no dataset's existence and are ignored, and so is every job once
   * closed: the next start applies every policy afresh.
   */
  jobEnded(job: Job): void {
    if (this.closed || !DATASET_WORKFLOWS.has(job.workflow)) return;
    const dataset = datasetOfExecution(job.input, job.output);
    if (dataset === undefined) return;
    const { engine } = this.options.ports;
    const done = reconcileSchedule(dataset, { engine, schedules: this.schedules })
      .then(() => (dataset.kind === 'dsource' ? this.refreshWatch() : undefined))
      .catch((error: unknown) =>
        this.options.log(`schedules: cannot bring ${dataset.id} in line after ${job.id}: ${message(error)}`),
      )
      .finally(() => this.reconciling.delete(done));
    this.reconciling.add(done);
  }

  /**
   * Stops the watch and the schedules, once the schedule changes under way are done (so none arms a
   * timer afterwards, which would keep the process alive), then waits for scheduled runs being started.
   */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.reconciling);
    this.sourceWatch?.close();
    await this.scheduler.stop();
  }

  /**
   * Starts retention (not a dry run) of every dSource and VDB for the daily run at `scheduledTime`,
   * as `runRetention` does on AWS: one dataset whose run cannot start keeps none of the others from it.
   */
  private async runRetention(scheduledTime: string): Promise<void> {
    const { engine, workflows } = this.options.ports;
    const [dsources, vdbs] = await Promise.all([engine.listDSources(), engine.listVdbs()]);
    const runs = [...dsources, ...vdbs].map((dataset) => retentionRun(dataset.id, scheduledTime));
    await startRuns(workflows, 'retention', runs);
  }

  private async refreshWatch(): Promise<void> {
    if (this.sourceWatch === undefined) return;
    const { engine } = this.options.ports;
    const [dsources, sourceConfigs] = await Promise.all([engine.listDSources(), engine.listSourceConfigs()]);
    const linked = new Set(dsources.map((dsource) => dsource.sourceConfigId));
    if (this.closed) return;
    this.sourceWatch.set(
      sourceConfigs
        .filter((config) => linked.has(config.id) && config.environmentId === this.options.environment.id)
        .map((config) => config.path),
    );
  }

  private sourceChanged(path: string): void {
    const entry = sourceChangedEntry({ sourceHost: this.options.environment.hostId, sourcePath: path });
    dispatchEntries([entry], this.options.ports).then(
      ([dispatched]) =>
        this.options.log(
          `watch: ${path} changed (event ${dispatched?.event.id}): ${dispatched?.jobs.map((job) => job.id).join(', ') || 'no sync'}`,
        ),
      (error: unknown) => this.options.log(`watch: ${path} changed, but no sync started: ${message(error)}`),
    );
  }
}

function describeSchedulerEvent(event: Exclude<SchedulerEvent, { kind: 'fired' }>): string {
  const due = event.dueAt.toISOString();
  switch (event.kind) {
    case 'finished':
      return `schedule: ${event.scheduleId} started its run for ${due}`;
    case 'failed':
      return `schedule: ${event.scheduleId} could not start its run for ${due}: ${message(event.error)}`;
    case 'skipped':
      return `schedule: ${event.scheduleId} skipped ${due}: ${event.reason}`;
    case 'missed':
      return `schedule: ${event.scheduleId} missed the runs from ${due} to ${event.until.toISOString()} (this process could not run)`;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
