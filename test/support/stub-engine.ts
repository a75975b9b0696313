import type { DSource, Environment, Snapshot, SourceConfig, Space, Timeflow, Vdb } from '../../lib/core/model';
import type { EngineApi } from '../../lib/core/ports';

/** An engine whose methods are the ones given; it records every call, and any other method throws. */
export type StubEngine = EngineApi & { calls: [method: string, args: unknown[]][] };

const NOT_METHODS = new Set(['then', 'toJSON', 'asymmetricMatch', 'constructor', 'nodeType', 'tagName']);

export function stubEngine(methods: Partial<EngineApi>): StubEngine {
  const calls: [string, unknown[]][] = [];
  return new Proxy({ calls } as StubEngine, {
    get(target, property) {
      if (property === 'calls') return target.calls;
      const method = (methods as Record<string | symbol, ((...args: unknown[]) => unknown) | undefined>)[property];
      // Not engine methods: what await, vitest and JSON probe objects for.
      if (typeof property !== 'string' || NOT_METHODS.has(property) || property.startsWith('$$')) return undefined;
      return async (...args: unknown[]) => {
        calls.push([property, args]);
        if (method === undefined) throw new Error(`the stub engine does not expect ${property}`);
        return method(...args);
      };
    },
  });
}

const at = '2026-11-21T10:00:00.000Z';

/** One record of each kind, consistent with each other. */
export const records = {
  environment: {
    id: 'env-00000000000000e1',
    name: 'build-host',
    hostId: 'local',
    scratchPath: '/var/tmp/snapflow',
    createdAt: at,
  } satisfies Environment,
  sourceConfig: {
    id: 'sc-00000000000000c1',
    environmentId: 'env-00000000000000e1',
    name: 'app',
    path: '/srv/app',
    createdAt: at,
  } satisfies SourceConfig,
  dsource: {
    id: 'ds-00000000000000d1',
    name: 'app',
    sourceConfigId: 'sc-00000000000000c1',
    stagingEnvironmentId: 'env-00000000000000e1',
    parameters: { sourceAddress: 'localhost', username: 'root', mountLocation: '/mnt/staging' },
    currentTimeflowId: 'tf-00000000000000f1',
    policy: {
      schedule: { cron: '0 2 * * *', timeZone: 'Europe/Berlin' },
      retention: { hourly: 24, daily: 7, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
    },
    eventSources: [{ kind: 's3', bucket: 'app-drops', prefix: 'incoming/' }],
    createdAt: at,
  } satisfies DSource,
  vdb: {
    id: 'vdb-00000000000000b1',
    name: 'app-dev',
    parentDatasetId: 'ds-00000000000000d1',
    parentSnapshotId: 'snap-00000000000000a1',
    environmentId: 'env-00000000000000e1',
    parameters: { mountLocation: '/mnt/app-dev' },
    sourceConfig: { name: 'app-dev', path: '/mnt/app-dev' },
    status: 'RUNNING',
    enabled: true,
    currentTimeflowId: 'tf-00000000000000f2',
    policy: {
      schedule: null,
      retention: { hourly: 24, daily: 7, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
    },
    createdAt: at,
  } satisfies Vdb,
  snapshot: {
    id: 'snap-00000000000000a1',
    datasetId: 'ds-00000000000000d1',
    timeflowId: 'tf-00000000000000f1',
    createdAt: at,
    metadata: {},
    provenance: {
      trigger: { kind: 'api', id: 'sync-0123456789abcdef' },
      filesTransferred: 12,
      bytesTransferred: 3_500_000,
      durationMs: 420,
      pluginVersion: '1.0.0',
      snapshotParameters: { resync: false },
    },
    path: '/var/lib/snapflow/snapshots/snap-00000000000000a1',
  } satisfies Snapshot,
  timeflow: {
    id: 'tf-00000000000000f2',
    datasetId: 'vdb-00000000000000b1',
    kind: 'provision',
    parentSnapshotId: 'snap-00000000000000a1',
    createdAt: at,
    path: '/var/lib/snapflow/timeflows/tf-00000000000000f2',
  } satisfies Timeflow,
  space: {
    id: 'vdb-00000000000000b1',
    totalBytes: 4096,
    exclusiveBytes: 1024,
    sharedBytes: 3072,
    exact: true,
  } satisfies Space,
};
