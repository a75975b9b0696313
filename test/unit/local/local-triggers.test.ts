import { describe, expect, it } from 'vitest';
import type { Job, JobReader, WorkflowStarter } from '../../../lib/api/api-ports';
import { ErrorNames, SnapflowError } from '../../../lib/core/errors';
import type { DSource, Vdb } from '../../../lib/core/model';
import type { EngineApi } from '../../../lib/core/ports';
import type { SnapshotPolicy } from '../../../lib/core/snapshot-policy';
import type { WorkflowName } from '../../../lib/core/workflow-inputs';
import { LocalTriggers } from '../../../lib/local/local-triggers';
import { FakeClock, settle } from '../../support/fake-clock';
import { records, stubEngine } from '../../support/stub-engine';

/** Records what it starts; starting one job id twice is a conflict, as in LocalJobs. */
class RecordingJobs implements WorkflowStarter, JobReader {
  readonly started: { workflow: WorkflowName; input: unknown; jobId: string }[] = [];

  /** @param refuse Says which inputs to fail to start, as a backend that cannot start them would. */
  constructor(private readonly refuse: (input: unknown) => boolean = () => false) {}

  async start(workflow: WorkflowName, input: unknown, jobId: string): Promise<Job> {
    if (this.refuse(input)) throw new Error(`cannot start ${jobId}`);
    if (this.started.some((start) => start.jobId === jobId))
      throw new SnapflowError(ErrorNames.Conflict, `a job ${jobId} exists already`, { action: 'x' });
    this.started.push({ workflow, input, jobId });
    return this.get(jobId);
  }

  async get(jobId: string): Promise<Job> {
    const start = this.started.find((one) => one.jobId === jobId) as (typeof this.started)[number];
    return { id: jobId, workflow: start.workflow, status: 'RUNNING', input: start.input, startedAt: '', steps: [] };
  }
}

const retention = records.dsource.policy.retention;
const every = (cron: string, timeZone = 'UTC'): SnapshotPolicy => ({ schedule: { cron, timeZone }, retention });
const dsource = (policy: SnapshotPolicy): DSource => ({ ...records.dsource, policy });
const vdb = (policy: SnapshotPolicy): Vdb => ({ ...records.vdb, policy });

async function setup(
  options: {
    dsources?: DSource[];
    vdbs?: Vdb[];
    engine?: Partial<EngineApi>;
    start?: string;
    refuse?: (input: unknown) => boolean;
  } = {},
) {
  const clock = new FakeClock(options.start ?? '2024-01-10T00:07:00.000Z');
  const jobs = new RecordingJobs(options.refuse);
  const log: string[] = [];
  const engine = stubEngine({
    listDSources: async () => options.dsources ?? [],
    listVdbs: async () => options.vdbs ?? [],
    ...options.engine,
  });
  const triggers = await LocalTriggers.start({
    ports: { engine, workflows: jobs, jobs },
    environment: records.environment,
    watch: false,
    log: (line) => log.push(line),
    clock,
  });
  /** The snapshot runs started, leaving out the daily retention runs. */
  const snapshotRuns = () => jobs.started.filter((start) => start.workflow !== 'retention');
  const triggerIds = () => snapshotRuns().map((start) => (start.input as { trigger: { id: string } }).trigger.id);
  return { clock, jobs, log, triggers, snapshotRuns, triggerIds };
}

describe('LocalTriggers', () => {
  it('starts exactly one sync per due time of a dSource’s schedule, triggered by the schedule with its time', async () => {
    const { clock, jobs, triggers } = await setup({ dsources: [dsource(every('*/15 * * * *'))] });
    expect(triggers.schedules.nextRunAt(records.dsource.id)).toEqual(new Date('2024-01-10T00:15:00.000Z'));

    await clock.advanceTo('2024-01-10T00:50:00.000Z');

    expect(jobs.started).toEqual(
      ['00:15', '00:30', '00:45'].map((time) => ({
        workflow: 'sync',
        jobId: expect.stringMatching(/^sync-[0-9a-f]{16}$/),
        input: {
          dsourceId: records.dsource.id,
          snapshotParameters: { resync: false },
          trigger: { kind: 'schedule', id: `${records.dsource.id}@2024-01-10T${time}:00Z` },
        },
      })),
    );
    expect(new Set(jobs.started.map((start) => start.jobId)).size).toBe(3);
    await triggers.close();
  });

  it('snapshots a VDB on its schedule, read in the policy’s time zone', async () => {
    const { clock, snapshotRuns, triggers } = await setup({ vdbs: [vdb(every('0 9 * * *', 'America/New_York'))] });

    await clock.advanceTo('2024-01-11T00:00:00.000Z');

    expect(snapshotRuns().map(({ workflow, input }) => ({ workflow, input }))).toEqual([
      {
        workflow: 'snapshot-vdb',
        input: { vdbId: records.vdb.id, trigger: { kind: 'schedule', id: `${records.vdb.id}@2024-01-10T14:00:00Z` } },
      },
    ]);
    await triggers.close();
  });

  it('follows a policy change at once: the new schedule only, then none', async () => {
    const { clock, triggers, triggerIds } = await setup({ dsources: [dsource(every('0 * * * *'))] });

    await clock.advanceTo('2024-01-10T01:10:00.000Z');
    await triggers.schedules.apply({ id: records.dsource.id, kind: 'dsource', policy: every('45 * * * *') });
    expect(triggers.schedules.nextRunAt(records.dsource.id)).toEqual(new Date('2024-01-10T01:45:00.000Z'));
    await clock.advanceTo('2024-01-10T02:50:00.000Z');
    await triggers.schedules.apply({
      id: records.dsource.id,
      kind: 'dsource',
      policy: { schedule: null, retention },
    });
    await clock.advanceTo('2024-01-10T06:00:00.000Z');

    expect(triggerIds()).toEqual(
      ['01:00', '01:45', '02:45'].map((time) => `${records.dsource.id}@2024-01-10T${time}:00Z`),
    );
    expect(triggers.schedules.nextRunAt(records.dsource.id)).toBeUndefined();
    await triggers.close();
  });

  it('gives a dataset a link or provision made its schedule, and takes it from one a delete removed', async () => {
    let exists = true;
    const { clock, triggers, triggerIds } = await setup({
      engine: {
        getDSource: async (id) => {
          if (!exists) throw new SnapflowError(ErrorNames.NotFound, `there is no dSource ${id}`, { action: 'x' });
          return dsource(every('30 * * * *'));
        },
      },
    });
    const ended = (workflow: WorkflowName, status: Job['status']): Job => ({
      id: `${workflow}-0123456789abcdef`,
      workflow,
      status,
      input: { dsourceId: records.dsource.id },
      startedAt: '',
      steps: [],
    });

    triggers.jobEnded(ended('sync', 'SUCCEEDED'));
    await settle();
    expect(triggers.schedules.nextRunAt(records.dsource.id)).toBeUndefined();
    triggers.jobEnded(ended('link', 'SUCCEEDED'));
    await settle();
    await clock.advanceTo('2024-01-10T00:40:00.000Z');
    exists = false;
    triggers.jobEnded(ended('delete-dsource', 'SUCCEEDED'));
    await settle();
    await clock.advanceTo('2024-01-10T03:00:00.000Z');

    expect(triggerIds()).toEqual([`${records.dsource.id}@2024-01-10T00:30:00Z`]);
    await triggers.close();
  });

  it('starts a due time’s run once, even when two schedulers fire it, and reports what the schedules did', async () => {
    const { clock, jobs, log, triggers } = await setup({
      dsources: [dsource(every('0 * * * *'))],
      start: '2024-01-10T00:30:00.000Z',
    });
    // A second scheduler over the same jobs, as after `up` restarted within the minute.
    const again = await LocalTriggers.start({
      ports: {
        engine: stubEngine({ listDSources: async () => [dsource(every('0 * * * *'))], listVdbs: async () => [] }),
        workflows: jobs,
        jobs,
      },
      environment: records.environment,
      watch: false,
      log: (line) => log.push(line),
      clock,
    });

    await clock.advanceTo('2024-01-10T01:30:00.000Z');

    expect(jobs.started).toHaveLength(1);
    expect(log).toEqual([
      `schedule: snapshot ${records.dsource.id} started its run for 2024-01-10T01:00:00.000Z`,
      `schedule: snapshot ${records.dsource.id} started its run for 2024-01-10T01:00:00.000Z`,
    ]);
    await triggers.close();
    await again.close();
  });

  it('runs retention of every dSource and VDB once a day at 03:15 UTC, as on AWS, never as a dry run', async () => {
    const { clock, jobs, triggers } = await setup({
      dsources: [dsource(every('0 0 1 1 *'))],
      vdbs: [vdb(every('0 0 1 1 *'))],
    });

    await clock.advanceTo('2024-01-12T00:00:00.000Z');

    expect(jobs.started.map(({ workflow, input }) => ({ workflow, input }))).toEqual(
      ['2024-01-10', '2024-01-11'].flatMap((day) =>
        [records.dsource.id, records.vdb.id].map((datasetId) => ({
          workflow: 'retention',
          input: { datasetId, dryRun: false, trigger: { kind: 'schedule', id: `${datasetId}@${day}T03:15:00Z` } },
        })),
      ),
    );
    await triggers.close();
  });

  it('starts the retention of every other dataset when one dataset’s run cannot start, and reports it', async () => {
    const dsources = ['ds-0000000000000001', 'ds-0000000000000002', 'ds-0000000000000003'].map((id) => ({
      ...dsource(every('0 0 1 1 *')),
      id,
    }));
    const { clock, jobs, log, triggers } = await setup({
      dsources,
      refuse: (input) => (input as { datasetId?: string }).datasetId === 'ds-0000000000000001',
    });

    await clock.advanceTo('2024-01-10T04:00:00.000Z');

    expect(jobs.started.map(({ input }) => (input as { datasetId: string }).datasetId)).toEqual([
      'ds-0000000000000002',
      'ds-0000000000000003',
    ]);
    expect(log).toEqual([
      expect.stringMatching(
        /^schedule: retention could not start its run for 2024-01-10T03:15:00.000Z: cannot start retention-/,
      ),
    ]);
    await triggers.close();
  });

  it('arms nothing once closed, so a stopped `up` can exit', async () => {
    const { clock, triggers, jobs } = await setup({
      dsources: [dsource(every('0 * * * *'))],
      engine: { getDSource: async () => dsource(every('30 * * * *')) },
    });

    await triggers.close();
    triggers.jobEnded({
      id: 'link-0123456789abcdef',
      workflow: 'link',
      status: 'ABORTED',
      input: { dsourceId: records.dsource.id },
      startedAt: '',
      steps: [],
    });
    await settle();
    await clock.advanceTo('2024-01-11T00:00:00.000Z');

    expect(triggers.schedules.nextRunAt(records.dsource.id)).toBeUndefined();
    expect(jobs.started).toEqual([]);
  });
});
