import type { EngineApi } from '../core/ports';
import type { SchedulesPort } from '../core/schedules-port';
import type { WorkflowName } from '../core/workflow-inputs';

/** How a job stands; the same words `DescribeExecution` uses. */
export type JobStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/**
 * How one step (state) of a job stands: `CAUGHT` when its error was routed by a Catch (the job goes
 * on, usually undoing), `ABORTED` when the job ended while it ran.
 */
export type JobStepStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CAUGHT' | 'ABORTED';

/** One state of the job's state machine, from entering it to leaving it. */
export interface JobStep {
  name: string;
  status: JobStepStatus;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
}

/** One workflow execution, as the backends record it; the API presents it as a job. */
export interface Job {
  /** The execution's name, which is also the id the API hands out. */
  id: string;
  workflow: WorkflowName;
  status: JobStatus;
  /** The execution's input, from which the job's target is read. */
  input: unknown;
  startedAt: string;
  endedAt?: string;
  steps: JobStep[];
  /** The execution's output, once it succeeded. */
  output?: unknown;
  /** The error name and cause that ended a failed or timed-out execution, as Step Functions reports them. */
  error?: { name: string; cause: string };
}

/** Starts workflows: Step Functions on AWS, the local interpreter in local mode. */
export interface WorkflowStarter {
  /**
   * Starts one execution of `workflow` named `jobId` and returns it as it stands (RUNNING). Does not
   * wait for it.
   * @throws ConflictError when an execution of that name exists already
   */
  start(workflow: WorkflowName, input: unknown, jobId: string): Promise<Job>;
}

/** Reads how jobs stand. */
export interface JobReader {
  /** @throws NotFoundError for an id no execution has */
  get(jobId: string): Promise<Job>;
}

/** Keeps datasets' snapshot schedules: EventBridge Scheduler on AWS, the local scheduler in local mode. */
export interface DatasetSchedules extends SchedulesPort {
  /** When the dataset's snapshot schedule runs next; absent when this scheduler cannot tell. */
  nextRunAt?(datasetId: string): Date | undefined;
}

/** What the API handler calls. */
export interface ApiPorts {
  engine: EngineApi;
  workflows: WorkflowStarter;
  jobs: JobReader;
  schedules: DatasetSchedules;
}
