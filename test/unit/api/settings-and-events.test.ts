import { describe, expect, it } from 'vitest';
import type { ApiPorts, Job, JobReader, WorkflowStarter } from '../../../lib/api/api-ports';
import { dsourceSchema, listOf, snapshotSchema, vdbSchema } from '../../../lib/api/api-schemas';
import { sourceChangedEntry } from '../../../lib/api/dispatch-entries';
import { handleRequest } from '../../../lib/api/handle-request';
import { type OperationId, type Route, routeByOperation, routes } from '../../../lib/api/routes';
import { ErrorNames, SnapflowError } from '../../../lib/core/errors';
import { SNAPFLOW_EVENT_SOURCE, SOURCE_CHANGED_DETAIL_TYPE } from '../../../lib/core/event-patterns';
import type { EngineApi } from '../../../lib/core/ports';
import { validate } from '../../../lib/core/validate';
import { linkInputSchema, type WorkflowName } from '../../../lib/core/workflow-inputs';
import { records, type StubEngine, stubEngine } from '../../support/stub-engine';
import { stubSchedules } from '../../support/stub-schedules';

/** Records what it starts; a second start of one job id is a conflict, as Step Functions answers it. */
class RecordingStarter implements WorkflowStarter, JobReader {
  readonly started: { workflow: WorkflowName; input: unknown; jobId: string }[] = [];
  private readonly jobs = new Map<string, Job>();

  async start(workflow: WorkflowName, input: unknown, jobId: string): Promise<Job> {
    if (this.jobs.has(jobId))
      throw new SnapflowError(ErrorNames.Conflict, `a job ${jobId} exists already`, { action: 'x' });
    this.started.push({ workflow, input, jobId });
    const job: Job = {
      id: jobId,
      workflow,
      status: 'RUNNING',
      input,
      startedAt: '2026-11-21T10:00:00.000Z',
      steps: [],
    };
    this.jobs.set(jobId, job);
    return job;
  }

  async get(jobId: string): Promise<Job> {
    return this.jobs.get(jobId) as Job;
  }
}

const NEXT_RUN = new Date('2026-11-22T01:30:00.000Z');

function setup(engine: Partial<EngineApi> = {}) {
  const workflows = new RecordingStarter();
  const schedules = stubSchedules({ [records.dsource.id]: NEXT_RUN });
  const stub = stubEngine(engine);
  const ports: ApiPorts = { engine: stub, workflows, jobs: workflows, schedules };
  const send = (operationId: OperationId, request: { id?: string; body?: object } = {}) =>
    handleRequest(
      {
        route: routeByOperation(operationId),
        params: request.id === undefined ? {} : { id: request.id },
        query: {},
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      },
      ports,
    );
  return { send, workflows, schedules, calls: () => (stub as StubEngine).calls };
}

const linkBody = {
  name: 'app',
  source_config_id: records.sourceConfig.id,
  staging_environment_id: records.environment.id,
  linked_source: { sourceAddress: 'localhost', username: 'root', mountLocation: '/mnt/staging' },
};

/** Every property name in a JSON Schema, however deep. */
function propertyNames(schema: unknown): string[] {
  if (schema === null || typeof schema !== 'object') return [];
  return Object.entries(schema).flatMap(([key, value]) => [
    ...(key === 'properties' ? Object.keys(value as object) : []),
    ...(Array.isArray(value) ? value.flatMap(propertyNames) : propertyNames(value)),
  ]);
}

describe('snapshot policies in the API', () => {
  it('take policy fields in snake_case at any depth on the wire', () => {
    for (const operationId of ['linkDSource', 'provisionVdbBySnapshot', 'updateDSource', 'updateVdb'] as const) {
      const policy = routeByOperation(operationId).body?.properties.policy;
      expect(propertyNames(policy).sort(), operationId).toEqual(
        [
          'cron',
          'daily',
          'hourly',
          'keep_at_least',
          'monthly',
          'retention',
          'schedule',
          'time_zone',
          'weekly',
          'yearly',
        ].sort(),
      );
    }
    expect(propertyNames(routeByOperation('updateSnapshot').body)).toEqual(['expires_at', 'retain_forever']);
  });

  it('link with the policy in the core’s camelCase, defaults filled in, and the event sources as given', async () => {
    const { send, workflows } = setup();

    const answer = await send('linkDSource', {
      body: {
        ...linkBody,
        policy: {
          schedule: { cron: '30 2 * * *', time_zone: 'Europe/Berlin' },
          retention: { daily: 7, keep_at_least: 2 },
        },
        event_sources: [{ kind: 's3', bucket: 'app-drops', prefix: 'incoming/' }],
      },
    });

    expect(answer.statusCode).toBe(202);
    const input = workflows.started[0]?.input as Record<string, unknown>;
    expect(input).toMatchObject({
      policy: {
        schedule: { cron: '30 2 * * *', timeZone: 'Europe/Berlin' },
        retention: { hourly: 0, daily: 7, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 2 },
      },
      eventSources: [{ kind: 's3', bucket: 'app-drops', prefix: 'incoming/' }],
    });
    expect(() => validate(linkInputSchema, input, 'input')).not.toThrow();
  });

  it.each([
    [{ schedule: { cron: '61 * * * *', time_zone: 'UTC' } }, 'body.policy.schedule.cron', /Invalid value for minute/],
    [
      { schedule: { cron: '0 2 * * *', time_zone: 'europe/berlin' } },
      'body.policy.schedule.time_zone',
      /write Europe\/Berlin/,
    ],
    [{ schedule: { cron: '0 2 * * *', timeZone: 'UTC' } }, 'body.policy.schedule.time_zone', /is missing/],
    [{ retention: {} }, 'body.policy.retention', /names no rule/],
    [{ retention: { keep_at_least: 0 } }, 'body.policy.retention.keep_at_least', /must be >= 1/],
  ])('refuses the policy %j before a job starts, naming %s', async (policy, field, message) => {
    const { send, workflows } = setup();

    const answer = await send('provisionVdbBySnapshot', {
      body: {
        name: 'app-dev',
        snapshot_id: records.snapshot.id,
        environment_id: records.environment.id,
        virtual_source: { mountLocation: '/mnt/app-dev' },
        policy,
      },
    });

    expect(answer.statusCode).toBe(400);
    const error = (answer.body as { error: { field: string; message: string; action: string } }).error;
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(`${error.message} ${error.action}`).not.toMatch(/timeZone|keepAtLeast/);
    expect(workflows.started).toEqual([]);
  });

  it('show a dSource with its policy in snake_case, its event sources and when its schedule runs next', async () => {
    const { send } = setup({ getDSource: async () => records.dsource });

    const answer = await send('getDSource', { id: records.dsource.id });

    expect(answer.statusCode).toBe(200);
    const { schedule } = records.dsource.policy;
    expect(answer.body).toMatchObject({
      policy: {
        schedule: { cron: schedule.cron, time_zone: schedule.timeZone },
        retention: { hourly: 24, daily: 7, weekly: 0, monthly: 0, yearly: 0, keep_at_least: 1 },
      },
      event_sources: [{ kind: 's3', bucket: 'app-drops', prefix: 'incoming/' }],
      next_snapshot_at: NEXT_RUN.toISOString(),
    });
    expect(() => validate(dsourceSchema, answer.body, 'answer')).not.toThrow();
  });

  it('list dSources and VDBs each with when its schedule runs next, where the scheduler can tell', async () => {
    const { send } = setup({ listDSources: async () => [records.dsource], listVdbs: async () => [records.vdb] });

    const dsources = await send('listDSources');
    const vdbs = await send('listVdbs');

    expect(dsources.body).toEqual([expect.objectContaining({ next_snapshot_at: NEXT_RUN.toISOString() })]);
    expect(vdbs.body).toEqual([expect.not.objectContaining({ next_snapshot_at: expect.anything() })]);
    expect(() => validate(listOf(dsourceSchema), dsources.body, 'answer')).not.toThrow();
    expect(() => validate(listOf(vdbSchema), vdbs.body, 'answer')).not.toThrow();
  });

  it('change a dSource’s settings in the engine, then apply its schedule, and answer it as it is then', async () => {
    const updated = { ...records.dsource, policy: { ...records.dsource.policy, schedule: null }, eventSources: [] };
    const { send, schedules, calls } = setup({
      getDSource: async () => records.dsource,
      updateDatasetSettings: async () => updated,
    });

    const answer = await send('updateDSource', {
      id: records.dsource.id,
      body: { policy: { schedule: null }, event_sources: [] },
    });

    expect(answer.statusCode).toBe(200);
    expect(calls()).toEqual([
      ['getDSource', [records.dsource.id]],
      [
        'updateDatasetSettings',
        [
          records.dsource.id,
          {
            policy: {
              schedule: null,
              retention: { hourly: 24, daily: 7, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
            },
            eventSources: [],
          },
        ],
      ],
    ]);
    expect(schedules.applied).toEqual([{ id: records.dsource.id, kind: 'dsource', policy: updated.policy }]);
    expect(answer.body).toMatchObject({ policy: { schedule: null }, event_sources: [] });
  });

  it('change a VDB’s policy and refuse event sources for it', async () => {
    const { send, schedules } = setup({
      getVdb: async () => records.vdb,
      updateDatasetSettings: async () => records.vdb,
    });

    const changed = await send('updateVdb', {
      id: records.vdb.id,
      body: { policy: { schedule: { cron: '0 * * * *', time_zone: 'UTC' } } },
    });
    const refused = await send('updateVdb', { id: records.vdb.id, body: { event_sources: [] } });

    expect(changed.statusCode).toBe(200);
    expect(() => validate(vdbSchema, changed.body, 'answer')).not.toThrow();
    expect(schedules.applied.map((dataset) => dataset.kind)).toEqual(['vdb']);
    expect(refused.body).toMatchObject({
      error: { field: 'body.event_sources', message: 'body.event_sources is not a known field' },
    });
  });

  it('refuse a settings change that names nothing, and one for a dataset of the other kind', async () => {
    const { send, schedules } = setup({
      getDSource: async (id) => {
        throw new SnapflowError(ErrorNames.NotFound, `there is no dSource ${id}`, { action: 'List the dSources.' });
      },
      getVdb: async () => records.vdb,
    });

    const empty = await send('updateVdb', { id: records.vdb.id, body: {} });
    const wrongKind = await send('updateDSource', { id: records.vdb.id, body: { event_sources: [] } });

    expect(empty).toMatchObject({
      statusCode: 400,
      body: { error: { field: 'body', message: 'body names no setting to change' } },
    });
    expect(wrongKind.statusCode).toBe(404);
    expect(schedules.applied).toEqual([]);
  });

  it('set a snapshot’s expiry or retain-forever mark, naming a bad field in snake_case', async () => {
    const retained = { ...records.snapshot, expiresAt: '2027-01-01T00:00:00Z', retainForever: true };
    const { send, calls } = setup({ updateSnapshot: async () => retained });

    const set = await send('updateSnapshot', {
      id: records.snapshot.id,
      body: { expires_at: '2027-01-01T00:00:00Z', retain_forever: true },
    });
    const cleared = await send('updateSnapshot', { id: records.snapshot.id, body: { expires_at: null } });
    const bad = await send('updateSnapshot', { id: records.snapshot.id, body: { expires_at: 'next tuesday' } });
    const empty = await send('updateSnapshot', { id: records.snapshot.id, body: {} });

    expect(set.statusCode).toBe(200);
    expect(set.body).toMatchObject({
      expires_at: '2027-01-01T00:00:00Z',
      retain_forever: true,
      provenance: { trigger: { kind: 'api', id: 'sync-0123456789abcdef' } },
    });
    expect(() => validate(snapshotSchema, set.body, 'answer')).not.toThrow();
    expect(calls()).toEqual([
      ['updateSnapshot', [records.snapshot.id, { expiresAt: '2027-01-01T00:00:00Z', retainForever: true }]],
      ['updateSnapshot', [records.snapshot.id, { expiresAt: null }]],
    ]);
    expect(cleared.statusCode).toBe(200);
    expect(bad.body).toMatchObject({
      error: { field: 'body.expires_at', message: 'body.expires_at "next tuesday" is not a UTC timestamp' },
    });
    expect(empty.body).toMatchObject({ error: { field: 'body', action: expect.stringContaining('body.expires_at') } });
  });
});

describe('retention in the API', () => {
  it('starts retention of a dSource or a VDB, deleting only when not asked for a dry run', async () => {
    const { send, workflows } = setup({ getDSource: async () => records.dsource, getVdb: async () => records.vdb });

    const dsource = await send('applyDSourceRetention', { id: records.dsource.id, body: { dry_run: true } });
    const vdb = await send('applyVdbRetention', { id: records.vdb.id });

    expect(dsource).toMatchObject({ statusCode: 202, body: { dsource_id: records.dsource.id } });
    expect(vdb).toMatchObject({
      statusCode: 202,
      body: { vdb_id: records.vdb.id, job: { target_id: records.vdb.id } },
    });
    expect(workflows.started).toEqual([
      {
        workflow: 'retention',
        jobId: expect.stringMatching(/^retention-[0-9a-f]{16}$/),
        input: {
          datasetId: records.dsource.id,
          dryRun: true,
          trigger: { kind: 'api', id: workflows.started[0]?.jobId },
        },
      },
      {
        workflow: 'retention',
        jobId: expect.stringMatching(/^retention-[0-9a-f]{16}$/),
        input: { datasetId: records.vdb.id, dryRun: false, trigger: { kind: 'api', id: workflows.started[1]?.jobId } },
      },
    ]);
  });
});

describe('POST /events', () => {
  const catalog = {
    listDSources: async () => [records.dsource],
    listSourceConfigs: async () => [records.sourceConfig],
    listEnvironments: async () => [records.environment],
  };
  type Accepted = { entries: { event_id: string; jobs: { id: string; workflow: string; target_id: string }[] }[] };

  it('starts exactly one sync for a matching event, with the event as its trigger', async () => {
    const { send, workflows } = setup(catalog);

    const answer = await send('putEvents', {
      body: { Entries: [sourceChangedEntry({ dsourceId: records.dsource.id })] },
    });

    expect(answer.statusCode).toBe(202);
    const [entry] = (answer.body as Accepted).entries;
    expect(entry?.event_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(entry?.jobs).toEqual([
      expect.objectContaining({ workflow: 'sync', target_id: records.dsource.id, id: workflows.started[0]?.jobId }),
    ]);
    expect(workflows.started).toEqual([
      {
        workflow: 'sync',
        jobId: expect.stringMatching(/^sync-[0-9a-f]{16}$/),
        input: {
          dsourceId: records.dsource.id,
          snapshotParameters: { resync: false },
          trigger: { kind: 'event', id: entry?.event_id },
        },
      },
    ]);
  });

  it('matches the source host and path, and S3 objects under a dSource’s event source, with the rules’ patterns', async () => {
    const { send, workflows } = setup(catalog);
    const s3 = (key: string) => ({
      Source: 'aws.s3',
      DetailType: 'Object Created',
      Detail: JSON.stringify({ bucket: { name: 'app-drops' }, object: { key } }),
    });

    const answer = await send('putEvents', {
      body: {
        Entries: [
          sourceChangedEntry({ sourceHost: records.environment.name, sourcePath: `${records.sourceConfig.path}/` }),
          s3('incoming/2026-11-21.csv'),
          s3('elsewhere/2026-11-21.csv'),
        ],
      },
    });

    expect((answer.body as Accepted).entries.map((entry) => entry.jobs.length)).toEqual([1, 1, 0]);
    expect(workflows.started.map((start) => (start.input as { dsourceId: string }).dsourceId)).toEqual([
      records.dsource.id,
      records.dsource.id,
    ]);
  });

  it('starts nothing for an event no rule matches, one naming no dSource, or one for another bus', async () => {
    const { send, workflows } = setup(catalog);
    const detail = JSON.stringify({ dsourceId: records.dsource.id });

    const answer = await send('putEvents', {
      body: {
        Entries: [
          { Source: 'billing', DetailType: SOURCE_CHANGED_DETAIL_TYPE, Detail: detail },
          { Source: SNAPFLOW_EVENT_SOURCE, DetailType: 'Source Data Deleted', Detail: detail },
          sourceChangedEntry({ dsourceId: 'ds-00000000000000ff' }),
          { ...sourceChangedEntry({ dsourceId: records.dsource.id }), EventBusName: 'other' },
        ],
      },
    });

    expect(answer.statusCode).toBe(202);
    expect((answer.body as Accepted).entries.map((entry) => entry.jobs)).toEqual([[], [], [], []]);
    expect(workflows.started).toEqual([]);
  });

  it('refuses the whole request, naming the entry’s field, when one entry is not valid', async () => {
    const { send, workflows } = setup(catalog);

    const answer = await send('putEvents', {
      body: {
        Entries: [
          sourceChangedEntry({ dsourceId: records.dsource.id }),
          { Source: SNAPFLOW_EVENT_SOURCE, DetailType: SOURCE_CHANGED_DETAIL_TYPE, Detail: '"not an object"' },
        ],
      },
    });
    const empty = await send('putEvents', { body: { Entries: [] } });

    expect(answer).toMatchObject({
      statusCode: 400,
      body: { error: { code: 'ValidationError', field: 'body.Entries.1.Detail' } },
    });
    expect(empty.statusCode).toBe(400);
    expect(workflows.started).toEqual([]);
  });

  it('is the only route whose body keeps PutEvents’ field names', () => {
    const pascal = (routes as readonly Route[]).filter((route) =>
      propertyNames(route.body).some((name) => /^[A-Z]/.test(name)),
    );
    expect(pascal.map((route) => route.operationId)).toEqual(['putEvents']);
  });
});
