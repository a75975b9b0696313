import { describe, expect, it } from 'vitest';
import { JOB_ID_PATTERN } from '../../../lib/api/job-id';
import { syncsForEvent } from '../../../lib/core/dispatch-event';
import type { EventBridgeEvent } from '../../../lib/core/event-patterns';
import type { DSource, Environment, SourceConfig } from '../../../lib/core/model';
import { DEFAULT_SNAPSHOT_POLICY } from '../../../lib/core/snapshot-policy';
import { validate } from '../../../lib/core/validate';
import { syncInputSchema } from '../../../lib/core/workflow-inputs';

const at = '2026-11-21T10:00:00.000Z';
const environment = (id: string, name: string, hostId: string): Environment => ({
  id,
  name,
  hostId,
  scratchPath: '/var/tmp/snapflow',
  createdAt: at,
});
const sourceConfig = (id: string, environmentId: string, path: string): SourceConfig => ({
  id,
  environmentId,
  name: id,
  path,
  createdAt: at,
});
const dsource = (id: string, sourceConfigId: string, extra: Partial<DSource> = {}): DSource => ({
  id,
  name: id,
  sourceConfigId,
  stagingEnvironmentId: 'env-00000000000000e9',
  parameters: { sourceAddress: 'app.example.com', username: 'snapflow', mountLocation: '/mnt/staging' },
  currentTimeflowId: 'tf-0000000000000001',
  policy: DEFAULT_SNAPSHOT_POLICY,
  eventSources: [],
  createdAt: at,
  ...extra,
});

const catalog = {
  environments: [
    environment('env-00000000000000e1', 'app-host', 'i-0123456789abcdef0'),
    environment('env-00000000000000e2', 'db-host', 'mi-0123456789abcdef1'),
  ],
  sourceConfigs: [
    sourceConfig('sc-00000000000000c1', 'env-00000000000000e1', '/srv/app'),
    sourceConfig('sc-00000000000000c2', 'env-00000000000000e2', '/srv/app'),
    sourceConfig('sc-00000000000000c3', 'env-00000000000000e1', '/srv/other'),
  ],
  dsources: [
    dsource('ds-00000000000000d1', 'sc-00000000000000c1', {
      eventSources: [{ kind: 's3', bucket: 'app-drops', prefix: 'incoming/' }],
    }),
    dsource('ds-00000000000000d2', 'sc-00000000000000c2', {
      parameters: { sourceAddress: 'localhost', username: 'snapflow', mountLocation: '/mnt/staging' },
      eventSources: [
        { kind: 's3', bucket: 'app-drops', prefix: '' },
        { kind: 's3', bucket: 'app-drops', prefix: 'incoming/x' },
      ],
    }),
    dsource('ds-00000000000000d3', 'sc-00000000000000c3'),
  ],
};

const sourceChanged = (detail: Record<string, unknown>, id = 'event-1'): EventBridgeEvent => ({
  version: '0',
  id,
  'detail-type': 'Source Data Changed',
  source: 'snapflow',
  account: '123456789012',
  time: '2026-11-21T10:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail,
});
const objectCreated = (bucket: string, key: string): EventBridgeEvent => ({
  version: '0',
  id: 'event-s3',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '123456789012',
  time: '2026-11-21T10:00:00Z',
  region: 'us-east-1',
  resources: [`arn:aws:s3:::${bucket}`],
  detail: { version: '0', bucket: { name: bucket }, object: { key, size: 5 }, reason: 'PutObject' },
});
const ids = (event: EventBridgeEvent) => syncsForEvent(event, catalog).map((sync) => sync.dsourceId);

describe('syncsForEvent', () => {
  it('starts one sync of the dSource a Source Data Changed event names, triggered by the event', () => {
    const syncs = syncsForEvent(sourceChanged({ dsourceId: 'ds-00000000000000d3' }, 'event-7'), catalog);

    expect(syncs).toEqual([
      {
        dsourceId: 'ds-00000000000000d3',
        input: {
          dsourceId: 'ds-00000000000000d3',
          snapshotParameters: { resync: false },
          trigger: { kind: 'event', id: 'event-7' },
        },
        jobId: expect.stringMatching(new RegExp(JOB_ID_PATTERN)),
      },
    ]);
    expect(validate(syncInputSchema, syncs[0]?.input, 'input')).toBeDefined();
  });

  it('names dSources by source host and path: the environment name or host id, or the copy address', () => {
    expect(ids(sourceChanged({ sourceHost: 'app-host', sourcePath: '/srv/app' }))).toEqual(['ds-00000000000000d1']);
    expect(ids(sourceChanged({ sourceHost: 'mi-0123456789abcdef1', sourcePath: '/srv/app' }))).toEqual([
      'ds-00000000000000d2',
    ]);
    expect(ids(sourceChanged({ sourceHost: 'app.example.com', sourcePath: '/srv//app/' }))).toEqual([
      'ds-00000000000000d1',
    ]);
    expect(ids(sourceChanged({ sourceHost: 'app-host', sourcePath: '/srv/other' }))).toEqual(['ds-00000000000000d3']);
  });

  it('lets no loopback copy address name a host', () => {
    expect(ids(sourceChanged({ sourceHost: 'localhost', sourcePath: '/srv/app' }))).toEqual([]);
  });

  it('lets no loopback copy address name a host, however it is capitalized', () => {
    const shouting = {
      ...catalog,
      dsources: [
        dsource('ds-00000000000000d4', 'sc-00000000000000c1', {
          parameters: { sourceAddress: 'LOCALHOST', username: 'snapflow', mountLocation: '/mnt/staging' },
        }),
      ],
    };

    const syncs = syncsForEvent(sourceChanged({ sourceHost: 'LOCALHOST', sourcePath: '/srv/app' }), shouting);

    expect(syncs).toEqual([]);
  });

  it('syncs each dSource once however many ways the event names it', () => {
    const event = sourceChanged({ dsourceId: 'ds-00000000000000d1', sourceHost: 'app-host', sourcePath: '/srv/app' });

    expect(ids(event)).toEqual(['ds-00000000000000d1']);
  });

  it('starts nothing for an event that names no dSource, or half a location', () => {
    expect(ids(sourceChanged({ dsourceId: 'ds-000000000000dead' }))).toEqual([]);
    expect(ids(sourceChanged({ sourceHost: 'app-host' }))).toEqual([]);
    expect(ids(sourceChanged({ sourceHost: 'app-host', sourcePath: '/srv/elsewhere' }))).toEqual([]);
    expect(ids(sourceChanged({ dsourceId: 42 }))).toEqual([]);
  });

  it('starts nothing for an event the patterns do not match', () => {
    expect(ids({ ...sourceChanged({ dsourceId: 'ds-00000000000000d1' }), source: 'other' })).toEqual([]);
    expect(ids({ ...sourceChanged({ dsourceId: 'ds-00000000000000d1' }), 'detail-type': 'Other' })).toEqual([]);
    expect(ids({ ...objectCreated('app-drops', 'incoming/a'), 'detail-type': 'Object Deleted' })).toEqual([]);
  });

  it('starts the syncs of the dSources with an event source for the bucket and a prefix of the key', () => {
    expect(ids(objectCreated('app-drops', 'incoming/a.csv'))).toEqual(['ds-00000000000000d1', 'ds-00000000000000d2']);
    expect(ids(objectCreated('app-drops', 'archive/a.csv'))).toEqual(['ds-00000000000000d2']);
    expect(ids(objectCreated('other-bucket', 'incoming/a.csv'))).toEqual([]);
  });

  it('gives a sync the same job id for the same event and another for another event or dSource', () => {
    const [first] = syncsForEvent(sourceChanged({ dsourceId: 'ds-00000000000000d1' }, 'event-1'), catalog);
    const [again] = syncsForEvent(sourceChanged({ dsourceId: 'ds-00000000000000d1' }, 'event-1'), catalog);
    const [other] = syncsForEvent(sourceChanged({ dsourceId: 'ds-00000000000000d1' }, 'event-2'), catalog);
    const both = syncsForEvent(objectCreated('app-drops', 'incoming/a.csv'), catalog);

    expect(again?.jobId).toBe(first?.jobId);
    expect(other?.jobId).not.toBe(first?.jobId);
    expect(new Set(both.map((sync) => sync.jobId)).size).toBe(2);
  });
});
