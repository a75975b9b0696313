import { ErrorNames, SnapflowError } from '../../lib/core/errors';
import type {
  Dependent,
  DSource,
  Environment,
  ExportSpec,
  Lease,
  Snapshot,
  SourceConfig,
  Space,
  Timeflow,
  Vdb,
} from '../../lib/core/model';
import type { EngineApi } from '../../lib/core/ports';
import type { StepPorts } from '../../lib/core/steps/step-ports';
import {
  defaultDSourcePolicy,
  defaultVdbPolicy,
  parseEventSources,
  parsePolicy,
  parseRetentionChange,
  resolvePolicy,
} from '../../lib/engine/dataset-settings';

type Method = keyof EngineApi;

/** One call the fake received, for assertions on what a step asked of the engine. */
export interface EngineCall {
  method: Method;
  args: unknown[];
}

const CREATED_AT = '2026-01-01T00:00:00.000Z';
const ROOT = '/var/lib/snapflow';

/**
 * An in-memory engine with the real one's semantics where steps depend on them: timeflows (a dSource
 * has one, a VDB a new one per refresh or rollback), client-chosen idempotent ids, dependents that
 * block deletes, and the engine's named errors. It records every call and can be told to fail a
 * method once with {@link FakeEngine.failNext}.
 */
export class FakeEngine implements EngineApi {
  readonly calls: EngineCall[] = [];
  readonly environments = new Map<string, Environment>();
  readonly sourceConfigs = new Map<string, SourceConfig>();
  readonly dsources = new Map<string, DSource>();
  readonly snapshots = new Map<string, Snapshot>();
  readonly vdbs = new Map<string, Vdb>();
  readonly timeflows = new Map<string, Timeflow>();
  /** Leases by dataset id. */
  readonly leases = new Map<string, Lease>();
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

  async createEnvironment(input: { name: string; hostId: string; scratchPath?: string }): Promise<Environment> {
    this.record('createEnvironment', input);
    const { scratchPath = '/var/tmp/snapflow', ...rest } = input;
    return this.put(this.environments, { id: this.id('env'), ...rest, scratchPath, createdAt: CREATED_AT });
  }

  async getEnvironment(id: string): Promise<Environment> {
    this.record('getEnvironment', id);
    return this.get(this.environments, 'environment', id);
  }

  async listEnvironments(): Promise<Environment[]> {
    this.record('listEnvironments');
    return [...this.environments.values()];
  }

  async deleteEnvironment(id: string): Promise<void> {
    this.record('deleteEnvironment', id);
    this.get(this.environments, 'environment', id);
    const users = [...this.sourceConfigs.values(), ...this.dsources.values(), ...this.vdbs.values()].filter(
      (user) => ('stagingEnvironmentId' in user ? user.stagingEnvironmentId : user.environmentId) === id,
    );
    if (users.length > 0) {
      throw new SnapflowError(
        ErrorNames.DependentsExist,
        `environment ${id} is used by ${users.map((user) => user.id).join(', ')}`,
        { action: 'Delete them first.' },
      );
    }
    this.environments.delete(id);
  }

  async createSourceConfig(input: { environmentId: string; name: string; path: string }): Promise<SourceConfig> {
    this.record('createSourceConfig', input);
    return this.put(this.sourceConfigs, { id: this.id('sc'), ...input, createdAt: CREATED_AT });
  }

  async getSourceConfig(id: string): Promise<SourceConfig> {
    this.record('getSourceConfig', id);
    return this.get(this.sourceConfigs, 'source config', id);
  }

  async listSourceConfigs(): Promise<SourceConfig[]> {
    this.record('listSourceConfigs');
    return [...this.sourceConfigs.values()];
  }

  async deleteSourceConfig(id: string): Promise<void> {
    this.record('deleteSourceConfig', id);
    this.get(this.sourceConfigs, 'source config', id);
    const users = [...this.dsources.values()].filter((dsource) => dsource.sourceConfigId === id);
    if (users.length > 0) {
      throw new SnapflowError(
        ErrorNames.DependentsExist,
        `source config ${id} is used by ${users.map((user) => user.id).join(', ')}`,
        { action: 'Delete them first.' },
      );
    }
    this.sourceConfigs.delete(id);
  }

  async createDSource(input: Parameters<EngineApi['createDSource']>[0]): Promise<DSource> {
    this.record('createDSource', input);
    const { id: chosen, policy: policyInput, eventSources: eventSourcesInput, ...given } = input;
    // Stored as the engine stores them: the policy resolved with defaults, no event sources by default.
    const rest = {
      ...given,
      policy: resolvePolicy(policyInput, defaultDSourcePolicy),
      eventSources: eventSourcesInput === undefined ? [] : parseEventSources(eventSourcesInput),
    };
    const existing = this.idempotent(this.dsources, chosen, rest);
    if (existing !== undefined) return existing;
    const id = chosen ?? this.id('ds');
    const timeflow = this.addTimeflow(id, 'link');
    return this.put(this.dsources, { id, ...rest, currentTimeflowId: timeflow.id, createdAt: CREATED_AT });
  }

  async updateDatasetSettings(
    datasetId: string,
    input: Parameters<EngineApi['updateDatasetSettings']>[1],
  ): Promise<DSource | Vdb> {
    this.record('updateDatasetSettings', datasetId, input);
    const dataset = this.dataset(datasetId);
    const policy = input.policy === undefined ? {} : { policy: parsePolicy(input.policy) };
    const vdb = this.vdbs.get(datasetId);
    if (vdb !== undefined) {
      if (input.eventSources !== undefined)
        throw new SnapflowError(
          ErrorNames.Validation,
          `eventSources apply to dSources only, and ${datasetId} is a VDB`,
          {
            field: 'eventSources',
            action: 'Leave eventSources out for a VDB.',
          },
        );
      return this.put(this.vdbs, { ...vdb, ...policy });
    }
    const eventSources =
      input.eventSources === undefined ? {} : { eventSources: parseEventSources(input.eventSources) };
    return this.put(this.dsources, { ...(dataset as DSource), ...policy, ...eventSources });
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
    this.refuseDependents('dSource', id);
    this.dropDataset(id);
    this.dsources.delete(id);
  }

  async exportDataset(datasetId: string, input: { readOnly: boolean }): Promise<ExportSpec> {
    this.record('exportDataset', datasetId, input);
    const timeflow = this.get(this.timeflows, 'timeflow', this.dataset(datasetId).currentTimeflowId);
    return { datasetId, kind: 'bind', source: timeflow.path, readOnly: input.readOnly };
  }

  async exportSnapshot(snapshotId: string): Promise<ExportSpec> {
    this.record('exportSnapshot', snapshotId);
    const snapshot = this.get(this.snapshots, 'snapshot', snapshotId);
    return { datasetId: snapshotId, kind: 'bind', source: snapshot.path, readOnly: true };
  }

  async snapshotDataset(datasetId: string, input: Parameters<EngineApi['snapshotDataset']>[1]): Promise<Snapshot> {
    this.record('snapshotDataset', datasetId, input);
    const dataset = this.dataset(datasetId);
    const id = this.id('snap');
    return this.put(this.snapshots, {
      id,
      datasetId,
      timeflowId: dataset.currentTimeflowId,
      createdAt: CREATED_AT,
      ...input,
      path: `${ROOT}/snapshots/${id}`,
    });
  }

  async getSnapshot(id: string): Promise<Snapshot> {
    this.record('getSnapshot', id);
    return this.get(this.snapshots, 'snapshot', id);
  }

  async listSnapshots(filter?: { datasetId?: string; timeflowId?: string }): Promise<Snapshot[]> {
    this.record('listSnapshots', filter);
    if (filter?.datasetId !== undefined) this.dataset(filter.datasetId);
    if (filter?.timeflowId !== undefined) this.get(this.timeflows, 'timeflow', filter.timeflowId);
    return [...this.snapshots.values()].filter(
      (s) =>
        (filter?.datasetId === undefined || s.datasetId === filter.datasetId) &&
        (filter?.timeflowId === undefined || s.timeflowId === filter.timeflowId),
    );
  }

  async deleteSnapshot(id: string): Promise<void> {
    this.record('deleteSnapshot', id);
    this.get(this.snapshots, 'snapshot', id);
    this.refuseDependents('snapshot', id);
    this.snapshots.delete(id);
  }

  async updateSnapshot(id: string, input: Parameters<EngineApi['updateSnapshot']>[1]): Promise<Snapshot> {
    this.record('updateSnapshot', id, input);
    const change = parseRetentionChange(input);
    const { expiresAt, retainForever, ...rest } = this.get(this.snapshots, 'snapshot', id);
    // As the engine keeps them: `null` and `false` remove the fields.
    const expiry = change.expiresAt === undefined ? expiresAt : (change.expiresAt ?? undefined);
    const forever = change.retainForever ?? retainForever;
    return this.put(this.snapshots, {
      ...rest,
      ...(expiry === undefined ? {} : { expiresAt: expiry }),
      ...(forever === true ? { retainForever: true } : {}),
    });
  }

  async createVdb(input: Parameters<EngineApi['createVdb']>[0]): Promise<Vdb> {
    this.record('createVdb', input);
    const snapshot = this.get(this.snapshots, 'snapshot', input.snapshotId);
    const { id: chosen, snapshotId, policy: policyInput, ...given } = input;
    const rest = { ...given, policy: resolvePolicy(policyInput, defaultVdbPolicy) };
    const existing = this.idempotent(this.vdbs, chosen, { ...rest, parentSnapshotId: snapshotId });
    if (existing !== undefined) return existing;
    const id = chosen ?? this.id('vdb');
    const timeflow = this.addTimeflow(id, 'provision', snapshotId);
    return this.put(this.vdbs, {
      id,
      ...rest,
      parentDatasetId: snapshot.datasetId,
      parentSnapshotId: snapshotId,
      status: 'PROVISIONING',
      enabled: true,
      currentTimeflowId: timeflow.id,
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
    this.refuseDependents('VDB', id);
    this.dropDataset(id);
    this.vdbs.delete(id);
  }

  async listTimeflows(filter?: { datasetId?: string }): Promise<Timeflow[]> {
    this.record('listTimeflows', filter);
    if (filter?.datasetId !== undefined) this.dataset(filter.datasetId);
    return [...this.timeflows.values()].filter(
      (timeflow) => filter?.datasetId === undefined || timeflow.datasetId === filter.datasetId,
    );
  }

  async getTimeflow(id: string): Promise<Timeflow> {
    this.record('getTimeflow', id);
    return this.get(this.timeflows, 'timeflow', id);
  }

  async createTimeflow(
    vdbId: string,
    input: { snapshotId: string; kind: 'refresh' | 'rollback' },
  ): Promise<{ vdb: Vdb; timeflow: Timeflow; previousTimeflowId: string }> {
    this.record('createTimeflow', vdbId, input);
    const vdb = this.get(this.vdbs, 'VDB', vdbId);
    const snapshot = this.get(this.snapshots, 'snapshot', input.snapshotId);
    const owner = input.kind === 'rollback' ? vdb.id : vdb.parentDatasetId;
    if (snapshot.datasetId !== owner) {
      throw new SnapflowError(ErrorNames.Validation, `snapshot ${snapshot.id} is not a snapshot of ${owner}`, {
        field: 'snapshotId',
        action: 'Give a snapshot of the right dataset.',
      });
    }
    const timeflow = this.addTimeflow(vdb.id, input.kind, snapshot.id);
    const updated = this.put(this.vdbs, {
      ...vdb,
      parentSnapshotId: snapshot.id,
      currentTimeflowId: timeflow.id,
    });
    return { vdb: updated, timeflow, previousTimeflowId: vdb.currentTimeflowId };
  }

  async switchTimeflow(vdbId: string, timeflowId: string): Promise<Vdb> {
    this.record('switchTimeflow', vdbId, timeflowId);
    const vdb = this.get(this.vdbs, 'VDB', vdbId);
    const timeflow = this.get(this.timeflows, 'timeflow', timeflowId);
    if (timeflow.datasetId !== vdbId) throw conflict(`timeflow ${timeflowId} is not one of VDB ${vdbId}'s`);
    const parentSnapshotId = timeflow.parentSnapshotId ?? vdb.parentSnapshotId;
    return this.put(this.vdbs, { ...vdb, parentSnapshotId, currentTimeflowId: timeflowId });
  }

  async deleteTimeflow(id: string): Promise<void> {
    this.record('deleteTimeflow', id);
    const timeflow = this.get(this.timeflows, 'timeflow', id);
    if (this.dataset(timeflow.datasetId).currentTimeflowId === id) throw conflict(`timeflow ${id} is current`);
    this.refuseDependents('timeflow', id);
    for (const snapshot of this.snapshots.values()) if (snapshot.timeflowId === id) this.snapshots.delete(snapshot.id);
    this.timeflows.delete(id);
  }

  async acquireLease(datasetId: string, input: { holder: string; ttlSeconds: number }): Promise<Lease> {
    this.record('acquireLease', datasetId, input);
    this.dataset(datasetId);
    const held = this.leases.get(datasetId);
    if (held !== undefined && held.holder !== input.holder && Date.parse(held.expiresAt) > Date.now()) {
      throw new SnapflowError(
        ErrorNames.DatasetBusy,
        `dataset ${datasetId} is busy: ${held.holder} holds its lease until ${held.expiresAt}`,
        { action: `Wait for ${held.holder} to finish or for its lease to expire, or retry later.` },
      );
    }
    const lease: Lease = {
      datasetId,
      holder: input.holder,
      expiresAt: new Date(Date.now() + input.ttlSeconds * 1000).toISOString(),
    };
    this.leases.set(datasetId, lease);
    return lease;
  }

  async releaseLease(datasetId: string, holder: string): Promise<void> {
    this.record('releaseLease', datasetId, holder);
    if (this.leases.get(datasetId)?.holder === holder) this.leases.delete(datasetId);
  }

  async getSpace(id: string): Promise<Space> {
    this.record('getSpace', id);
    if (!this.timeflows.has(id) && !this.snapshots.has(id)) this.dataset(id);
    return { id, totalBytes: 0, exclusiveBytes: 0, sharedBytes: 0, exact: false };
  }

  async listDependents(id: string): Promise<Dependent[]> {
    this.record('listDependents', id);
    return this.dependents(id);
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

  /** The record a repeated create with a chosen id returns; a ConflictError when its input differs. */
  private idempotent<T extends object>(map: Map<string, T>, id: string | undefined, input: object): T | undefined {
    const existing = id === undefined ? undefined : map.get(id);
    if (existing === undefined) return undefined;
    const same = Object.entries(input).every(
      ([key, value]) => JSON.stringify((existing as Record<string, unknown>)[key]) === JSON.stringify(value),
    );
    if (!same) throw conflict(`${id} exists with a different input`);
    return existing;
  }

  private dataset(id: string): DSource | Vdb {
    const found = this.dsources.get(id) ?? this.vdbs.get(id);
    if (found === undefined) throw notFound('dataset', id);
    return found;
  }

  private addTimeflow(datasetId: string, kind: Timeflow['kind'], parentSnapshotId?: string): Timeflow {
    const id = this.id('tf');
    return this.put(this.timeflows, {
      id,
      datasetId,
      kind,
      ...(parentSnapshotId === undefined ? {} : { parentSnapshotId }),
      createdAt: CREATED_AT,
      path: `${ROOT}/timeflows/${id}`,
    });
  }

  private dropDataset(id: string): void {
    for (const snapshot of this.snapshots.values()) if (snapshot.datasetId === id) this.snapshots.delete(snapshot.id);
    for (const timeflow of this.timeflows.values()) if (timeflow.datasetId === id) this.timeflows.delete(timeflow.id);
  }

  /** Timeflows of other datasets cloned from the snapshots `id` owns (a dataset, timeflow or snapshot is given). */
  private dependents(id: string): Dependent[] {
    const owned = [...this.snapshots.values()].filter(
      (snapshot) => snapshot.id === id || snapshot.timeflowId === id || snapshot.datasetId === id,
    );
    return owned.flatMap((snapshot) =>
      [...this.timeflows.values()]
        .filter((timeflow) => timeflow.parentSnapshotId === snapshot.id && timeflow.datasetId !== snapshot.datasetId)
        .map((timeflow): Dependent => {
          const vdb = this.dataset(timeflow.datasetId);
          return vdb.currentTimeflowId === timeflow.id
            ? { kind: 'vdb', id: vdb.id, reason: `VDB ${vdb.id} was provisioned from snapshot ${snapshot.id}` }
            : {
                kind: 'timeflow',
                id: timeflow.id,
                reason: `timeflow ${timeflow.id} of VDB ${vdb.id} was cloned from snapshot ${snapshot.id}`,
              };
        }),
    );
  }

  private refuseDependents(kind: string, id: string): void {
    const dependents = this.dependents(id);
    if (dependents.length === 0) return;
    throw new SnapflowError(
      ErrorNames.DependentsExist,
      `${kind} ${id} cannot be deleted: ${dependents.map((d) => d.reason).join('; ')}`,
      { action: 'Delete the dependents first.' },
    );
  }
}

/** The engine's answer for a missing record. */
export function notFound(kind: string, id: string): SnapflowError {
  return new SnapflowError(ErrorNames.NotFound, `${kind} ${id} does not exist`, { action: 'Check the id.' });
}

function conflict(message: string): SnapflowError {
  return new SnapflowError(ErrorNames.Conflict, message, { action: 'Check the request.' });
}

/** A clock that always says `at`. */
export function fixedClock(at: string): StepPorts['clock'] {
  return { now: () => new Date(at) };
}
