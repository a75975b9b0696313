import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalWorkflows, WorkflowRun } from '../lib/local/local-workflows';
import { type LocalMode, startLocalMode } from '../lib/local/start-local-mode';
import type { BackendName } from './args';
import { cpuTimes, EngineCallMeter, HostCommandMeter } from './meters';
import type { MeterReadings } from './profile';
import { mountPointsBelow } from './shell';

type WorkflowInput = Parameters<LocalWorkflows['run']>[1];

/** Local mode on one backend, in a directory of its own below the suite's work directory. */
export class BenchSession {
  readonly backend: BackendName;
  readonly local: LocalMode;
  readonly meter: HostCommandMeter;
  readonly engineCalls: EngineCallMeter;
  /** Holds the sources, mount points and the engine home of this session. */
  readonly directory: string;
  private readonly signal: AbortSignal | undefined;
  private mounts = 0;
  private cpuAtReset = cpuTimes();

  private constructor(
    backend: BackendName,
    local: LocalMode,
    meter: HostCommandMeter,
    directory: string,
    signal?: AbortSignal,
  ) {
    this.backend = backend;
    this.local = local;
    this.meter = meter;
    this.engineCalls = EngineCallMeter.install();
    this.directory = directory;
    this.signal = signal;
  }

  /**
   * Starts local mode on `backend` in `directory` (created).
   * @throws the engine's error when the backend cannot run here (e.g. btrfs without root)
   */
  static async start(backend: BackendName, directory: string, signal?: AbortSignal): Promise<BenchSession> {
    await mkdir(join(directory, 'mnt'), { recursive: true });
    const meter = new HostCommandMeter();
    // Before local mode starts, so that every engine client it and its handlers make is metered.
    EngineCallMeter.install();
    const local = await startLocalMode({
      home: join(directory, 'home'),
      backend,
      wrapHostRunner: (runner) => meter.wrap(runner),
    });
    return new BenchSession(backend, local, meter, directory, signal);
  }

  get environmentId(): string {
    return this.local.environment.id;
  }

  /** Sets the host command and engine call meters to zero. */
  resetMeters(): void {
    this.meter.reset();
    this.engineCalls.reset();
    this.cpuAtReset = cpuTimes();
  }

  /** What the meters recorded since {@link resetMeters}. */
  readings(): MeterReadings {
    const cpu = cpuTimes();
    return {
      cpuMs: cpu.selfMs - this.cpuAtReset.selfMs,
      childCpuMs: cpu.childrenMs - this.cpuAtReset.childrenMs,
      hostScriptMs: this.meter.scriptMs,
      engineMs: this.engineCalls.ms,
      engineCalls: this.engineCalls.calls,
      engineRoutes: Object.fromEntries([...this.engineCalls.routes].map(([route, time]) => [route, { ...time }])),
    };
  }

  /** A mount location not used before in this session. */
  mountLocation(name: string): string {
    this.mounts += 1;
    return join(this.directory, 'mnt', `${name}-${this.mounts}`);
  }

  /** Runs a workflow and returns how it ended, whether or not it succeeded. */
  runWorkflow(workflow: string, input: WorkflowInput): Promise<WorkflowRun> {
    return this.local.workflows.run(workflow, input, this.signal ? { signal: this.signal } : {});
  }

  /**
   * Runs a workflow that must succeed.
   * @throws Error naming the workflow and its error when it did not succeed
   */
  async mustRun(workflow: string, input: WorkflowInput): Promise<WorkflowRun> {
    const run = await this.runWorkflow(workflow, input);
    if (run.status !== 'SUCCEEDED')
      throw new Error(`${workflow} ended ${run.status}: ${run.error?.name ?? ''} ${run.error?.cause ?? ''}`.trim());
    return run;
  }

  /** The input of a provision of `snapshotId` as `name`, mounted at a fresh location. */
  provisionInput(snapshotId: string, name: string): WorkflowInput {
    return {
      name,
      snapshotId,
      environmentId: this.environmentId,
      virtualSource: { mountLocation: this.mountLocation(name) },
    };
  }

  /** Unmounts and deletes a VDB through the delete-vdb workflow. */
  async deleteVdb(vdbId: string): Promise<void> {
    await this.mustRun('delete-vdb', { vdbId });
  }

  /**
   * Unmounts whatever is still mounted below the session's directory (deepest first), stops the
   * engine and removes its pool, then removes the directory, but only once nothing is mounted below
   * it: removing through a mount would delete the mounted data.
   */
  async close(): Promise<void> {
    const pool = join(this.directory, 'home');
    try {
      const mounted = (await mountPointsBelow(this.directory)).filter((path) => !path.startsWith(`${pool}/`));
      await this.local.unmountAll(mounted.sort().reverse());
    } finally {
      await this.local.close({ keepStorage: false });
    }
    const left = await mountPointsBelow(this.directory);
    if (left.length > 0) throw new Error(`still mounted below ${this.directory}: ${left.join(', ')}; left it in place`);
    await rm(this.directory, { recursive: true, force: true });
  }
}
