import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSnapflowError } from '../../../lib/core/errors';
import { LocalJobs } from '../../../lib/local/local-jobs';
import type { LocalWorkflows, WorkflowRun, WorkflowRunOptions } from '../../../lib/local/local-workflows';
import type { StepRecord } from '../../../lib/local/record-steps';

/** Runs that the test moves along by hand: enter a step, then end the run. */
class ManualWorkflows implements Pick<LocalWorkflows, 'run' | 'workflowNames'> {
  readonly runs = new Map<
    string,
    { options: WorkflowRunOptions; steps: StepRecord[]; end: (run: WorkflowRun) => void }
  >();

  workflowNames(): string[] {
    return ['provision', 'sync'];
  }

  run(_workflow: string, _input: unknown, options: WorkflowRunOptions = {}): Promise<WorkflowRun> {
    return new Promise((resolve) => {
      const steps: StepRecord[] = [];
      this.runs.set(options.executionName as string, { options, steps, end: resolve });
      options.signal?.addEventListener('abort', () => resolve(ending('ABORTED', steps)));
    });
  }

  enter(jobId: string, state: string): StepRecord {
    const run = this.runs.get(jobId);
    if (run === undefined) throw new Error(`no run ${jobId}`);
    const step: StepRecord = {
      state,
      type: 'Task',
      startedAt: '2026-11-21T10:00:00.000Z',
      status: 'RUNNING',
      retries: 0,
    };
    run.steps.push(step);
    run.options.onStep?.(step);
    return step;
  }
}

function ending(status: WorkflowRun['status'], steps: StepRecord[], extra: Partial<WorkflowRun> = {}): WorkflowRun {
  return {
    status,
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Provision:x',
    startedAt: '2026-11-21T10:00:00.000Z',
    endedAt: '2026-11-21T10:00:02.000Z',
    durationMs: 2000,
    steps,
    ...extra,
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('LocalJobs', () => {
  let directory: string;
  let file: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'snapflow-jobs-'));
    file = join(directory, 'home', 'jobs.json');
  });
  afterEach(() => rm(directory, { recursive: true, force: true }));

  it('answers a running job with its live steps, then how it ended', async () => {
    const workflows = new ManualWorkflows();
    const jobs = await LocalJobs.open({ workflows, file });

    const started = await jobs.start('provision', { vdbId: 'vdb-1' }, 'provision-0000000000000001');
    expect(started).toMatchObject({ id: 'provision-0000000000000001', status: 'RUNNING', steps: [] });

    const step = workflows.enter('provision-0000000000000001', 'CreateVdb');
    expect((await jobs.get('provision-0000000000000001')).steps).toEqual([
      { name: 'CreateVdb', status: 'RUNNING', startedAt: '2026-11-21T10:00:00.000Z' },
    ]);

    Object.assign(step, { status: 'SUCCEEDED', endedAt: '2026-11-21T10:00:01.000Z', durationMs: 1000 });
    workflows.runs.get('provision-0000000000000001')?.end(ending('SUCCEEDED', [step], { output: { vdbId: 'vdb-1' } }));
    await settle();

    expect(await jobs.get('provision-0000000000000001')).toEqual({
      id: 'provision-0000000000000001',
      workflow: 'provision',
      status: 'SUCCEEDED',
      input: { vdbId: 'vdb-1' },
      startedAt: started.startedAt,
      endedAt: '2026-11-21T10:00:02.000Z',
      steps: [
        {
          name: 'CreateVdb',
          status: 'SUCCEEDED',
          startedAt: '2026-11-21T10:00:00.000Z',
          endedAt: '2026-11-21T10:00:01.000Z',
          durationMs: 1000,
        },
      ],
      output: { vdbId: 'vdb-1' },
    });
  });

  it('keeps finished jobs in a file only its owner reads, and reads them back after a restart', async () => {
    const workflows = new ManualWorkflows();
    const jobs = await LocalJobs.open({ workflows, file });
    await jobs.start('sync', { dsourceId: 'ds-1' }, 'sync-0000000000000001');
    workflows.runs
      .get('sync-0000000000000001')
      ?.end(ending('FAILED', [], { error: { name: 'CopyFailedError', cause: 'rsync failed' } }));
    await settle();

    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const reopened = await LocalJobs.open({ workflows: new ManualWorkflows(), file });
    expect(await reopened.get('sync-0000000000000001')).toMatchObject({
      status: 'FAILED',
      error: { name: 'CopyFailedError', cause: 'rsync failed' },
    });
  });

  it('records a job a crash cut off as ABORTED', async () => {
    const jobs = await LocalJobs.open({ workflows: new ManualWorkflows(), file });
    await jobs.start('sync', { dsourceId: 'ds-1' }, 'sync-0000000000000002');
    expect(JSON.parse(await readFile(file, 'utf8')).jobs[0].status).toBe('RUNNING');

    const reopened = await LocalJobs.open({ workflows: new ManualWorkflows(), file });

    expect((await reopened.get('sync-0000000000000002')).status).toBe('ABORTED');
  });

  it('aborts the jobs still running when closed, and records them so', async () => {
    const jobs = await LocalJobs.open({ workflows: new ManualWorkflows(), file });
    await jobs.start('provision', {}, 'provision-0000000000000003');

    await jobs.close();

    const saved = JSON.parse(await readFile(file, 'utf8')) as { jobs: { id: string; status: string }[] };
    expect(saved.jobs).toEqual([expect.objectContaining({ id: 'provision-0000000000000003', status: 'ABORTED' })]);
  });

  it('refuses unknown jobs, workflows the stack lacks, and a job id twice', async () => {
    const jobs = await LocalJobs.open({ workflows: new ManualWorkflows(), file });
    await jobs.start('sync', {}, 'sync-0000000000000004');

    await expect(jobs.get('sync-00000000000000ff')).rejects.toSatisfy((error) =>
      isSnapflowError(error, 'NotFoundError'),
    );
    await expect(jobs.start('export', {}, 'export-0000000000000001')).rejects.toSatisfy((error) =>
      isSnapflowError(error, 'UnsupportedOperationError'),
    );
    await expect(jobs.start('sync', {}, 'sync-0000000000000004')).rejects.toSatisfy((error) =>
      isSnapflowError(error, 'ConflictError'),
    );
    await jobs.close();
  });

  it('refuses a job file that is not JSON', async () => {
    await writeFile(join(directory, 'jobs.json'), 'not json');

    await expect(
      LocalJobs.open({ workflows: new ManualWorkflows(), file: join(directory, 'jobs.json') }),
    ).rejects.toSatisfy((error) => isSnapflowError(error, 'StorageError'));
  });
});
