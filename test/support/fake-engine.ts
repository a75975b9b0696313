import { ErrorNames, SnapflowError } from '../../lib/core/errors';
import type { DSource, Environment, ExportSpec, Snapshot, SourceConfig, Vdb } from '../../lib/core/model';
import type { EngineApi } from '../../lib/core/ports';
import type { StepPorts } from '../../lib/core/steps/step-ports';

type Method = keyof EngineApi;

/** One call the fake received, for assertions on what a step asked of the engine. */
export interface EngineCall {
  method: Method;
  args: unknown[];
}

const CREATED_AT = '2026-01-01T00:00:00.000Z';

/**
 * An in-memory engine: records every call, keeps records in maps, answers with the engine's named
 * errors, and can be told to fail a method once with {@link FakeEngine.failNext}.
 */
export class FakeEngine implements EngineApi {
  readonly calls: EngineCall[] = [];
  readonly environments = new Map<string, Environment>();
  readonly sourceConfigs = new Map<string, SourceConfig>();
  readonly dsources = new Map<string, DSource>();
  readonly snapshots = new Map<string, Snapshot>();
  readonly vdbs = new Map<string, Vdb>();
  private readonly failures = new Map<Method, Error>();
  private nextId = 1;

  /** Makes the next call of `method` throw `error` instead of doing its work. */
  failNext(method: Method, error: Error): void {
    this.failures.set(method, error);
  }

  /** The names of the methods called, in order. */
  get methods(): Method[] {
    return this.calls.map((call) => call.method);
  }

  async createEnvironment(input: { name: string; hostId: string }): Promise<Environment> {
    this.record('createEnvironment', input);
    return this.put(this.environments, { id: this.id('env'), ...input, createdAt: CREATED_AT });
  }

  async getEnvironment(id: string): Promise<Environment> {
    this.record('getEnvironment', id);
    return this.get(this.environments, 'environment', id);
  }

  async listEnvironments(): Promise<Environment[]> {
    this.record('listEnvironments');
    return [...this.environments.values()];
  }

  async createSourceConfig(input: { environmentId: string; name: string; path: string }): Promise<SourceConfig> {
    this.record('createSourceConfig', input);
    return this.put(this.sourceConfigs, { id: this.id('sc'), ...input, createdAt: CREATED_AT });
  }

  async getSourceConfig(id: string): Promise<SourceConfig> {
    this.record('getSourceConfig', id);
    return this.get(this.sourceConfigs, 'source config', id);
  }

  async createDSource(input: Parameters<EngineApi['createDSource']>[0]): Promise<DSource> {
    this.record('createDSource', input);
    return this.put(this.dsources, { id: this.id('ds'), ...input, createdAt: CREATED_AT });
  }

  async getDSource(id: string): Promise<DSource> {
    this.record('getDSource', id);
    return this.get(this.dsources, 'dSource', id);
  }

  async listDSources(): Promise<DSource[]> {
    this.record('listDSources');
    return [...this.dsources.values()];
  }

  async deleteDSource(id: string): Promise<void> {
    this.record('deleteDSource', id);
    this.get(this.dsources, 'dSource', id);
    this.dsources.delete(id);
  }

  async exportDataset(datasetId: string, input: { readOnly: boolean }): Promise<ExportSpec> {
    this.record('exportDataset', datasetId, input);
    this.dataset(datasetId);
    return { datasetId, kind: 'bind', source: `/var/lib/snapflow/datasets/${datasetId}`, readOnly: input.readOnly };
  }

  async snapshotDataset(datasetId: string, input: Parameters<EngineApi['snapshotDataset']>[1]): Promise<Snapshot> {
    this.record('snapshotDataset', datasetId, input);
    this.dataset(datasetId);
    const id = this.id('snap');
    return this.put(this.snapshots, {
      id,
      datasetId,
      createdAt: CREATED_AT,
      ...input,
      path: `/var/lib/snapflow/snapshots/${id}`,
    });
  }

  async getSnapshot(id: string): Promise<Snapshot> {
    this.record('getSnapshot', id);
    return this.get(this.snapshots, 'snapshot', id);
  }

  async listSnapshots(filter?: { datasetId?: string }): Promise<Snapshot[]> {
    this.record('listSnapshots', filter);
    return [...this.snapshots.values()].filter(
      (s) => filter?.datasetId === undefined || s.datasetId === filter.datasetId,
    );
  }

  async deleteSnapshot(id: string): Promise<void> {
    this.record('deleteSnapshot', id);
    this.get(this.snapshots, 'snapshot', id);
    this.snapshots.delete(id);
  }

  async createVdb(input: Parameters<EngineApi['createVdb']>[0]): Promise<Vdb> {
    this.record('createVdb', input);
    this.get(this.snapshots, 'snapshot', input.snapshotId);
    const { snapshotId, ...rest } = input;
    return this.put(this.vdbs, {
      id: this.id('vdb'),
      ...rest,
      parentSnapshotId: snapshotId,
      status: 'PROVISIONING',
      createdAt: CREATED_AT,
    });
  }

  async getVdb(id: string): Promise<Vdb> {
    this.record('getVdb', id);
    return this.get(this.vdbs, 'VDB', id);
  }

  async listVdbs(): Promise<Vdb[]> {
    this.record('listVdbs');
    return [...this.vdbs.values()];
  }

  async updateVdb(id: string, input: Parameters<EngineApi['updateVdb']>[1]): Promise<Vdb> {
    this.record('updateVdb', id, input);
    return this.put(this.vdbs, { ...this.get(this.vdbs, 'VDB', id), ...input });
  }

  async deleteVdb(id: string): Promise<void> {
    this.record('deleteVdb', id);
    this.get(this.vdbs, 'VDB', id);
    this.vdbs.delete(id);
  }

  private record(method: Method, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const failure = this.failures.get(method);
    if (failure === undefined) return;
    this.failures.delete(method);
    throw failure;
  }

  private id(prefix: string): string {
    return `${prefix}-${(this.nextId++).toString(16).padStart(16, '0')}`;
  }

  private put<T extends { id: string }>(map: Map<string, T>, record: T): T {
    map.set(record.id, record);
    return record;
  }

  private get<T>(map: Map<string, T>, kind: string, id: string): T {
    const found = map.get(id);
    if (found === undefined) throw notFound(kind, id);
    return found;
  }

  private dataset(id: string): void {
    if (!this.dsources.has(id) && !this.vdbs.has(id)) throw notFound('dataset', id);
  }
}

/** The engine's answer for a missing record. */
export function notFound(kind: string, id: string): SnapflowError {
  return new SnapflowError(ErrorNames.NotFound, `${kind} ${id} does not exist`, { action: 'Check the id.' });
}

/** A clock that always says `at`. */
export function fixedClock(at: string): StepPorts['clock'] {
  return { now: () => new Date(at) };
}
