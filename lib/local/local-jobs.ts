import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Job, JobReader, JobStep, WorkflowStarter } from '../api/api-ports';
import { ErrorNames, SnapflowError } from '../core/errors';
import type { WorkflowName } from '../core/workflow-inputs';
import type { LocalWorkflows, WorkflowRun } from './local-workflows';
import type { StepRecord } from './record-steps';

/** Options of {@link LocalJobs.open}. */
export interface LocalJobsOptions {
  /** Runs the executions. */
  workflows: Pick<LocalWorkflows, 'run' | 'workflowNames'>;
  /** JSON file the jobs are kept in, so that they outlive the process; created when missing. */
  file: string;
  /** Told of each job once it has ended and been recorded; it must not throw. */
  onEnd?: (job: Job) => void;
}

/** Jobs kept in the file: the newest ones. */
const KEPT_JOBS = 1000;

interface JobFile {
  jobs: Job[];
}

interface RunningJob {
  controller: AbortController;
  /** The run's step records, which the interpreter updates in place. */
  steps: StepRecord[];
  done: Promise<void>;
}

/**
 * Jobs in local mode: each is one execution of a local workflow, run in the background of this process.
 * While it runs, its steps are read live from the interpreter's step records; when it ends, and when it
 * starts, every job is written to a JSON file (atomically), so `GET /jobs/{id}` still answers after a
 * restart. A job the file says is running when it is opened was cut off by a crash: it is ABORTED.
 */
export class LocalJobs implements WorkflowStarter, JobReader {
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Map<string, RunningJob>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly options: LocalJobsOptions) {}

  /**
   * Opens the job file (if there is one) and returns the job store.
   * @throws StorageError when the file exists but cannot be read as jobs
   */
  static async open(options: LocalJobsOptions): Promise<LocalJobs> {
    const store = new LocalJobs(options);
    const text = await readFile(options.file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw storageError(`cannot read the job file ${options.file}`, error);
    });
    if (text !== undefined) {
      let parsed: JobFile;
      try {
        parsed = JSON.parse(text) as JobFile;
      } catch (error) {
        throw storageError(`the job file ${options.file} is not JSON`, error);
      }
      for (const job of parsed.jobs)
        store.jobs.set(job.id, job.status === 'RUNNING' ? { ...job, status: 'ABORTED' } : job);
    }
    return store;
  }

  async start(workflow: WorkflowName, input: unknown, jobId: string): Promise<Job> {
    if (!this.options.workflows.workflowNames().includes(workflow)) {
      throw new SnapflowError(ErrorNames.UnsupportedOperation, `this Snapflow has no ${workflow} workflow`, {
        action: `Use one of: ${this.options.workflows.workflowNames().join(', ')}.`,
      });
    }
    if (this.jobs.has(jobId)) {
      throw new SnapflowError(ErrorNames.Conflict, `a job ${jobId} exists already`, {
        action: 'Start the job again; the API picks a new id each time.',
      });
    }
    const job: Job = { id: jobId, workflow, status: 'RUNNING', input, startedAt: new Date().toISOString(), steps: [] };
    const controller = new AbortController();
    const steps: StepRecord[] = [];
    const onStep = (step: StepRecord) => {
      if (!steps.includes(step)) steps.push(step);
    };
    this.jobs.set(jobId, job);
    const done = this.options.workflows
      .run(workflow, input as Parameters<LocalWorkflows['run']>[1], {
        executionName: jobId,
        signal: controller.signal,
        onStep,
      })
      .then(
        (run) => this.finish(jobId, run),
        (error: unknown) =>
          this.finish(jobId, {
            status: 'FAILED',
            error: { name: 'States.Runtime', cause: error instanceof Error ? error.message : String(error) },
            endedAt: new Date().toISOString(),
            steps,
          }),
      );
    this.running.set(jobId, { controller, steps, done });
    await this.persist();
    return this.get(jobId);
  }

  async get(jobId: string): Promise<Job> {
    const job = this.jobs.get(jobId);
    if (job === undefined) {
      throw new SnapflowError(ErrorNames.NotFound, `there is no job ${jobId}`, {
        action: 'Use the job id the API answered with when it started the job.',
      });
    }
    const running = this.running.get(jobId);
    return structuredClone(running === undefined ? job : { ...job, steps: running.steps.map(jobStep) });
  }

  /** Aborts the jobs still running and resolves once they are recorded as ABORTED. */
  async close(): Promise<void> {
    const running = [...this.running.values()];
    for (const job of running) job.controller.abort();
    await Promise.all(running.map((job) => job.done));
    await this.writing;
  }

  private async finish(
    jobId: string,
    run: Pick<WorkflowRun, 'status' | 'output' | 'error' | 'endedAt' | 'steps'>,
  ): Promise<void> {
    const job = this.jobs.get(jobId) as Job;
    this.jobs.set(jobId, {
      ...job,
      status: run.status,
      endedAt: run.endedAt,
      steps: run.steps.map(jobStep),
      ...(run.output === undefined ? {} : { output: run.output }),
      ...(run.error === undefined ? {} : { error: run.error }),
    });
    this.running.delete(jobId);
    await this.persist().catch(() => undefined);
    this.options.onEnd?.(await this.get(jobId));
  }

  /** Writes every job to the file, one write at a time, each to a temporary file renamed over the old. */
  private persist(): Promise<void> {
    const write = async () => {
      const jobs = [...this.jobs.values()].slice(-KEPT_JOBS);
      const temporary = `${this.options.file}.tmp`;
      await mkdir(dirname(this.options.file), { recursive: true });
      await writeFile(temporary, `${JSON.stringify({ jobs } satisfies JobFile, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, this.options.file);
    };
    const next = this.writing.then(write, write);
    this.writing = next.catch(() => undefined);
    return next.catch((error: unknown) => {
      throw storageError(`cannot write the job file ${this.options.file}`, error);
    });
  }
}

function jobStep(step: StepRecord): JobStep {
  return {
    name: step.mapIndex === undefined ? step.state : `${step.state} [${step.mapIndex}]`,
    status: step.status,
    startedAt: step.startedAt,
    ...(step.endedAt === undefined ? {} : { endedAt: step.endedAt }),
    ...(step.durationMs === undefined ? {} : { durationMs: step.durationMs }),
  };
}

function storageError(message: string, cause: unknown): SnapflowError {
  return new SnapflowError(
    ErrorNames.Storage,
    `${message}: ${cause instanceof Error ? cause.message : String(cause)}`,
    { action: 'Check the local-mode home directory; move the file away to start with no job history.' },
    { cause },
  );
}
