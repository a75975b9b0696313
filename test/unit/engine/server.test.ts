import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineClient } from '../../../lib/adapters/engine-client';
import { ErrorNames } from '../../../lib/core/errors';
import { validate } from '../../../lib/core/validate';
import {
  createTimeflowResultSchema,
  dependentSchema,
  dsourceSchema,
  environmentSchema,
  errorSchema,
  exportSpecSchema,
  healthSchema,
  leaseSchema,
  snapshotSchema,
  sourceConfigSchema,
  spaceSchema,
  timeflowSchema,
  vdbSchema,
} from '../../../lib/engine/api-schemas';
import type { Engine } from '../../../lib/engine/engine';
import { buildEngineServer } from '../../../lib/engine/server';
import { type RunningEngine, startEngine } from '../../../lib/engine/start-engine';
import { makeTempRoot, removeTempRoot } from '../../support/engine-temp-root';

const TOKEN = 'server-test-token-0123456789';

/** The EngineApi methods, which the OpenAPI operationIds (and the client's methods) must name one to one. */
const ENGINE_API_METHODS = [
  'createEnvironment',
  'getEnvironment',
  'listEnvironments',
  'deleteEnvironment',
  'createSourceConfig',
  'getSourceConfig',
  'listSourceConfigs',
  'deleteSourceConfig',
  'createDSource',
  'getDSource',
  'listDSources',
  'deleteDSource',
  'updateDatasetSettings',
  'exportDataset',
  'exportSnapshot',
  'snapshotDataset',
  'getSnapshot',
  'listSnapshots',
  'deleteSnapshot',
  'updateSnapshot',
  'createVdb',
  'getVdb',
  'listVdbs',
  'updateVdb',
  'deleteVdb',
  'listTimeflows',
  'getTimeflow',
  'createTimeflow',
  'switchTimeflow',
  'deleteTimeflow',
  'acquireLease',
  'releaseLease',
  'getSpace',
  'listDependents',
];

const provenance = { trigger: { kind: 'api' }, pluginVersion: '0.1.0' };

describe('engine HTTP server', () => {
  let root: string;
  let running: RunningEngine;
  const logged: string[] = [];

  beforeAll(async () => {
    root = await makeTempRoot('server');
    running = await startEngine({
      root: join(root, 'engine'),
      backend: 'dir',
      token: TOKEN,
      log: (level, message, fields) => logged.push(JSON.stringify({ level, message, ...fields })),
    });
  });

  afterAll(async () => {
    try {
      await running.destroy();
    } finally {
      await removeTempRoot(root);
    }
  });

  /** Calls the engine; with the token unless `headers` says otherwise. */
  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: text === '' ? undefined : JSON.parse(text),
    };
  }

  describe('auth', () => {
    it('answers GET /health without a token', async () => {
      const health = await call('GET', '/health', undefined, { authorization: '' });
      expect(health.status).toBe(200);
      expect(health.json).toEqual({
        status: 'ok',
        backend: { kind: 'dir', reason: expect.stringMatching(/^dir backend/) },
        inconsistencies: [],
        quarantined: [],
      });
      expect(validate(healthSchema, health.json, 'health')).toBeDefined();
    });

    it.each([
      ['no token', {}],
      ['a wrong token', { authorization: 'Bearer not-the-token-at-all' }],
      ['a token of the right length but wrong', { authorization: `Bearer ${TOKEN.replace(/.$/, 'X')}` }],
      ['another scheme', { authorization: `Basic ${TOKEN}` }],
    ])('answers 401 UnauthorizedError JSON for %s', async (_, headers: Record<string, string>) => {
      const response = await fetch(`${running.url}/vdbs`, { headers });
      const body = await response.json();
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(body).toEqual({
        error: {
          code: ErrorNames.Unauthorized,
          message: expect.any(String),
          action: expect.stringContaining('Bearer'),
        },
      });
    });

    it('refuses unauthenticated writes before reading their body', async () => {
      const response = await call(
        'POST',
        '/environments',
        { name: 'x', hostId: 'local' },
        { authorization: 'Bearer x' },
      );
      expect(response.status).toBe(401);
      expect((await call('GET', '/environments')).json).toEqual([]);
    });
  });

  describe('routes', () => {
    it('creates with 201, reads with 200, deletes with 204 and an empty body', async () => {
      // Act
      const environment = await call('POST', '/environments', { name: 'local', hostId: 'local' });
      const sourceConfig = await call('POST', '/source-configs', {
        environmentId: environment.json.id,
        name: 'data',
        path: '/srv/data',
      });
      const dsource = await call('POST', '/dsources', {
        name: 'data',
        sourceConfigId: sourceConfig.json.id,
        stagingEnvironmentId: environment.json.id,
        parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/server-test' },
      });
      const snapshot = await call('POST', `/datasets/${dsource.json.id}/snapshots`, {
        provenance: { trigger: { kind: 'api' }, pluginVersion: '0.1.0' },
        metadata: {},
      });
      const vdb = await call('POST', '/vdbs', {
        name: 'dev',
        snapshotId: snapshot.json.id,
        environmentId: environment.json.id,
        parameters: { mountLocation: '/mnt/server-test-vdb' },
      });
      const patched = await call('PATCH', `/vdbs/${vdb.json.id}`, { status: 'RUNNING' });
      const listed = await call('GET', `/snapshots?datasetId=${dsource.json.id}`);
      const refused = await call('DELETE', `/vdbs/${vdb.json.id}`);
      await call('PATCH', `/vdbs/${vdb.json.id}`, { status: 'STOPPED' });
      const deleted = await call('DELETE', `/vdbs/${vdb.json.id}`);

      // Assess
      expect([environment, sourceConfig, dsource, snapshot, vdb].map((r) => r.status)).toEqual([
        201, 201, 201, 201, 201,
      ]);
      expect(patched).toMatchObject({ status: 200, json: { status: 'RUNNING' } });
      expect(listed).toMatchObject({ status: 200, json: [snapshot.json] });
      expect(refused).toMatchObject({ status: 409, json: { error: { code: ErrorNames.Conflict, field: 'id' } } });
      expect(deleted).toMatchObject({ status: 204, text: '' });
      expect((await call('GET', `/vdbs/${vdb.json.id}`)).status).toBe(404);
      // Responses match the schemas the OpenAPI document publishes.
      validate(environmentSchema, environment.json, 'environment');
      validate(sourceConfigSchema, sourceConfig.json, 'sourceConfig');
      validate(snapshotSchema, snapshot.json, 'snapshot');
      validate(vdbSchema, patched.json, 'vdb');
    });
  });

  describe('timeflow, space and dependents routes', () => {
    it('refreshes, lists, switches and deletes timeflows; measures; lists dependents; exports snapshots', async () => {
      // Prepare: an environment, a dSource under a chosen id with two snapshots, a VDB of the first.
      const environment = await call('POST', '/environments', {
        name: 'tf',
        hostId: 'i-0123456789abcdef0',
        scratchPath: '/srv/x',
      });
      const sourceConfig = await call('POST', '/source-configs', {
        environmentId: environment.json.id,
        name: 'data',
        path: '/srv/timeflows',
      });
      const dsource = await call('POST', '/dsources', {
        id: 'ds-0000000000000abc',
        name: 'data',
        sourceConfigId: sourceConfig.json.id,
        stagingEnvironmentId: environment.json.id,
        parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/timeflows-staging' },
      });
      const first = await call('POST', `/datasets/${dsource.json.id}/snapshots`, { provenance, metadata: {} });
      const second = await call('POST', `/datasets/${dsource.json.id}/snapshots`, { provenance, metadata: {} });
      const vdb = await call('POST', '/vdbs', {
        name: 'dev',
        snapshotId: first.json.id,
        environmentId: environment.json.id,
        parameters: { mountLocation: '/mnt/timeflows-vdb' },
      });

      // Act
      const refreshed = await call('POST', `/vdbs/${vdb.json.id}/timeflows`, {
        snapshotId: second.json.id,
        kind: 'refresh',
      });
      const listed = await call('GET', `/timeflows?datasetId=${vdb.json.id}`);
      const one = await call('GET', `/timeflows/${refreshed.json.timeflow.id}`);
      const snapshotsOfTimeflow = await call(
        'GET',
        `/snapshots?datasetId=${dsource.json.id}&timeflowId=${dsource.json.currentTimeflowId}`,
      );
      const dependents = await call('GET', `/dependents/${dsource.json.id}`);
      const refusedDelete = await call('DELETE', `/dsources/${dsource.json.id}`);
      const space = await call('GET', `/space/${vdb.json.id}`);
      const exported = await call('POST', `/snapshots/${first.json.id}/export`);
      const switched = await call('POST', `/vdbs/${vdb.json.id}/switch-timeflow`, {
        timeflowId: vdb.json.currentTimeflowId,
      });
      const deleted = await call('DELETE', `/timeflows/${refreshed.json.timeflow.id}`);
      const sourceConfigs = await call('GET', '/source-configs');
      const refusedEnvironment = await call('DELETE', `/environments/${environment.json.id}`);
      const spare = await call('POST', '/environments', { name: 'spare', hostId: 'mi-0123456789abcdef0' });
      const deletedEnvironment = await call('DELETE', `/environments/${spare.json.id}`);

      // Assess
      expect(dsource).toMatchObject({ status: 201, json: { id: 'ds-0000000000000abc' } });
      expect(refreshed).toMatchObject({
        status: 201,
        json: { previousTimeflowId: vdb.json.currentTimeflowId, vdb: { parentSnapshotId: second.json.id } },
      });
      validate(createTimeflowResultSchema, refreshed.json, 'result');
      expect(listed).toMatchObject({
        status: 200,
        json: [{ id: vdb.json.currentTimeflowId }, refreshed.json.timeflow],
      });
      expect(one.json).toEqual(refreshed.json.timeflow);
      validate(timeflowSchema, one.json, 'timeflow');
      expect(snapshotsOfTimeflow.json).toEqual([first.json, second.json]);
      expect(dependents.json.map((dependent: { id: string }) => dependent.id)).toEqual([
        vdb.json.currentTimeflowId,
        vdb.json.id,
      ]);
      for (const dependent of dependents.json) validate(dependentSchema, dependent, 'dependent');
      expect(refusedDelete).toMatchObject({ status: 409, json: { error: { code: ErrorNames.DependentsExist } } });
      for (const dependent of dependents.json) expect(refusedDelete.json.error.message).toContain(dependent.reason);
      expect(space).toMatchObject({ status: 200, json: { id: vdb.json.id, exact: false } });
      validate(spaceSchema, space.json, 'space');
      expect(exported.json).toEqual({
        datasetId: first.json.id,
        kind: 'bind',
        source: first.json.path,
        readOnly: true,
      });
      validate(exportSpecSchema, exported.json, 'export');
      expect(switched).toMatchObject({ status: 200, json: { currentTimeflowId: vdb.json.currentTimeflowId } });
      expect(deleted).toMatchObject({ status: 204, text: '' });
      expect((await call('GET', `/timeflows/${refreshed.json.timeflow.id}`)).status).toBe(404);
      expect(sourceConfigs.json).toContainEqual(sourceConfig.json);
      expect(refusedEnvironment).toMatchObject({ status: 409, json: { error: { code: ErrorNames.DependentsExist } } });
      expect(deletedEnvironment).toMatchObject({ status: 204, text: '' });
      validate(environmentSchema, environment.json, 'environment');
      validate(dsourceSchema, dsource.json, 'dsource');
      validate(vdbSchema, switched.json, 'vdb');
    });

    it('rejects unknown fields in the new bodies and queries, and ids of the wrong kind, naming them', async () => {
      const cases = [
        await call('POST', '/vdbs/vdb-0000000000000000/timeflows', {
          snapshotId: 'snap-0000000000000000',
          kind: 'refresh',
          force: true,
        }),
        await call('POST', '/vdbs/vdb-0000000000000000/switch-timeflow', { timeflowId: 'tf-0000000000000000', x: 1 }),
        await call('GET', '/timeflows?datasetId=ds-0000000000000000&kind=link'),
        await call('GET', '/snapshots?vdbId=vdb-0000000000000000'),
        await call('POST', '/dsources', {
          id: 'vdb-0000000000000000',
          name: 'x',
          sourceConfigId: 'sc-0000000000000000',
          stagingEnvironmentId: 'env-0000000000000000',
          parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/x' },
        }),
      ];
      expect(cases.map((response) => [response.status, response.json.error.field])).toEqual([
        [400, 'force'],
        [400, 'x'],
        [400, 'kind'],
        [400, 'vdbId'],
        [400, 'id'],
      ]);
    });
  });

  describe('settings and snapshot retention routes', () => {
    it('patches policies, event sources and snapshot retention with 200, answers as the schemas say, refuses bad fields', async () => {
      // Prepare
      const environment = await call('POST', '/environments', { name: 'settings', hostId: 'i-0123abce' });
      const sourceConfig = await call('POST', '/source-configs', {
        environmentId: environment.json.id,
        name: 'data',
        path: '/srv/settings',
      });
      const eventSources = [{ kind: 's3', bucket: 'settings-drops', prefix: 'in/' }];
      const dsource = await call('POST', '/dsources', {
        name: 'data',
        sourceConfigId: sourceConfig.json.id,
        stagingEnvironmentId: environment.json.id,
        parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/settings' },
        policy: { schedule: { cron: '0 2 * * *', timeZone: 'UTC' } },
        eventSources,
      });
      const snapshot = await call('POST', `/datasets/${dsource.json.id}/snapshots`, { provenance, metadata: {} });
      const vdb = await call('POST', '/vdbs', {
        name: 'dev',
        snapshotId: snapshot.json.id,
        environmentId: environment.json.id,
        parameters: { mountLocation: '/mnt/settings-vdb' },
      });
      const settings = (id: string) => `/datasets/${id}/settings`;

      // Act
      const dsourcePatched = await call('PATCH', settings(dsource.json.id), {
        policy: { retention: { daily: 3 } },
        eventSources: [],
      });
      const vdbPatched = await call('PATCH', settings(vdb.json.id), { policy: { retention: { keepAtLeast: 5 } } });
      const vdbSources = await call('PATCH', settings(vdb.json.id), { eventSources });
      const unknownSetting = await call('PATCH', settings(dsource.json.id), { schedule: null });
      const badCron = await call('PATCH', settings(dsource.json.id), {
        policy: { schedule: { cron: '0 25 * * *', timeZone: 'UTC' } },
      });
      const noDataset = await call('PATCH', settings('ds-0000000000000000'), { policy: {} });
      const expiring = await call('PATCH', `/snapshots/${snapshot.json.id}`, {
        expiresAt: '2031-01-01T00:00:00Z',
        retainForever: true,
      });
      const unexpiring = await call('PATCH', `/snapshots/${snapshot.json.id}`, { expiresAt: null });
      const badExpiry = await call('PATCH', `/snapshots/${snapshot.json.id}`, { expiresAt: 'next year' });
      const unknownField = await call('PATCH', `/snapshots/${snapshot.json.id}`, { retainForever: true, pinned: 1 });
      const empty = await call('PATCH', `/snapshots/${snapshot.json.id}`, {});

      // Assess
      expect(dsource).toMatchObject({
        status: 201,
        json: {
          policy: {
            schedule: { cron: '0 2 * * *', timeZone: 'UTC' },
            retention: { hourly: 24, daily: 7, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
          },
          eventSources,
        },
      });
      validate(dsourceSchema, dsource.json, 'dsource');
      validate(vdbSchema, vdb.json, 'vdb');
      expect(vdb.json.policy).toEqual({
        schedule: null,
        retention: { hourly: 24, daily: 7, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
      });
      expect(dsourcePatched).toMatchObject({
        status: 200,
        json: {
          id: dsource.json.id,
          policy: { schedule: null, retention: { hourly: 0, daily: 3, keepAtLeast: 1 } },
          eventSources: [],
        },
      });
      validate(dsourceSchema, dsourcePatched.json, 'dsource');
      expect(vdbPatched).toMatchObject({ status: 200, json: { policy: { retention: { daily: 0, keepAtLeast: 5 } } } });
      validate(vdbSchema, vdbPatched.json, 'vdb');
      expect((await call('GET', `/dsources/${dsource.json.id}`)).json).toEqual(dsourcePatched.json);
      expect((await call('GET', `/vdbs/${vdb.json.id}`)).json).toEqual(vdbPatched.json);
      expect(
        [vdbSources, unknownSetting, badCron, badExpiry, unknownField].map((response) => [
          response.status,
          response.json.error.code,
          response.json.error.field,
        ]),
      ).toEqual([
        [400, ErrorNames.Validation, 'eventSources'],
        [400, ErrorNames.Validation, 'schedule'],
        [400, ErrorNames.Validation, 'policy.schedule.cron'],
        [400, ErrorNames.Validation, 'expiresAt'],
        [400, ErrorNames.Validation, 'pinned'],
      ]);
      expect(badExpiry.json.error.message).toMatch(/^expiresAt "next year" is not a UTC timestamp/);
      expect(empty).toMatchObject({
        status: 400,
        json: { error: { message: expect.stringMatching(/names no field/) } },
      });
      expect(noDataset).toMatchObject({ status: 404, json: { error: { code: ErrorNames.NotFound } } });
      expect(expiring).toMatchObject({
        status: 200,
        json: { ...snapshot.json, expiresAt: '2031-01-01T00:00:00.000Z', retainForever: true },
      });
      validate(snapshotSchema, expiring.json, 'snapshot');
      expect(unexpiring).toMatchObject({ status: 200, json: { ...snapshot.json, retainForever: true } });
      expect(unexpiring.json).not.toHaveProperty('expiresAt');
      expect((await call('GET', `/snapshots/${snapshot.json.id}`)).json).toEqual(unexpiring.json);
    });
  });

  describe('lease, source-config deletion and request-token routes', () => {
    it('leases with 200, refuses another holder with 409 DatasetBusyError, releases with 204', async () => {
      // Prepare
      const environment = await call('POST', '/environments', { name: 'leases', hostId: 'i-0123abcd' });
      const sourceConfig = await call('POST', '/source-configs', {
        environmentId: environment.json.id,
        name: 'data',
        path: '/srv/leases',
      });
      const dsource = await call('POST', '/dsources', {
        name: 'data',
        sourceConfigId: sourceConfig.json.id,
        stagingEnvironmentId: environment.json.id,
        parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: '/mnt/leases' },
      });
      const holder = 'arn:aws:states:us-east-1:123456789012:execution:sync:run 1';
      const lease = `/datasets/${dsource.json.id}/lease`;

      // Act
      const taken = await call('POST', lease, { holder, ttlSeconds: 300 });
      const busy = await call('POST', lease, { holder: 'run-2', ttlSeconds: 300 });
      const badTtl = await call('POST', lease, { holder: 'run-2', ttlSeconds: 0 });
      const noHolder = await call('DELETE', lease);
      const releasedByOther = await call('DELETE', `${lease}?holder=run-2`);
      const released = await call('DELETE', `${lease}?${new URLSearchParams({ holder })}`);
      const retaken = await call('POST', lease, { holder: 'run-2', ttlSeconds: 300 });
      const snapshotBody = { provenance, metadata: {}, requestToken: `${holder}/SnapshotDataset` };
      const snapshot = await call('POST', `/datasets/${dsource.json.id}/snapshots`, snapshotBody);
      const repeated = await call('POST', `/datasets/${dsource.json.id}/snapshots`, snapshotBody);
      const refusedSourceConfig = await call('DELETE', `/source-configs/${sourceConfig.json.id}`);
      await call('DELETE', `/dsources/${dsource.json.id}`);
      const deletedSourceConfig = await call('DELETE', `/source-configs/${sourceConfig.json.id}`);

      // Assess
      expect(taken).toMatchObject({ status: 200, json: { datasetId: dsource.json.id, holder } });
      validate(leaseSchema, taken.json, 'lease');
      expect(busy).toMatchObject({
        status: 409,
        json: { error: { code: ErrorNames.DatasetBusy, message: expect.stringContaining(holder) } },
      });
      expect(badTtl).toMatchObject({ status: 400, json: { error: { field: 'ttlSeconds' } } });
      expect(noHolder).toMatchObject({ status: 400, json: { error: { field: 'holder' } } });
      expect([releasedByOther.status, released.status]).toEqual([204, 204]);
      expect(retaken).toMatchObject({ status: 200, json: { holder: 'run-2' } });
      expect(snapshot.status).toBe(201);
      expect(repeated.json).toEqual(snapshot.json);
      expect(snapshot.text).not.toContain('requestToken');
      validate(snapshotSchema, snapshot.json, 'snapshot');
      expect(refusedSourceConfig).toMatchObject({ status: 409, json: { error: { code: ErrorNames.DependentsExist } } });
      expect(deletedSourceConfig).toMatchObject({ status: 204, text: '' });
      expect((await call('GET', `/source-configs/${sourceConfig.json.id}`)).status).toBe(404);
    });
  });

  describe('errors', () => {
    it('answers SnapflowError JSON with the status of its name, and never a stack', async () => {
      const cases = [
        [await call('GET', '/vdbs/vdb-0000000000000000'), 404, ErrorNames.NotFound],
        [await call('POST', '/environments', { name: 'x', hostId: 'local', extra: 1 }), 400, ErrorNames.Validation],
        [await call('GET', '/no/such/route'), 404, ErrorNames.NotFound],
        [await call('POST', '/environments', '{"name":'), 400, ErrorNames.Validation],
        [await call('POST', '/environments', 'name=x', { 'content-type': 'text/plain' }), 400, ErrorNames.Validation],
        [await call('GET', '/snapshots?datasetId=nope'), 400, ErrorNames.Validation],
      ] as const;
      for (const [response, status, code] of cases) {
        expect(response.status).toBe(status);
        expect(response.json.error.code).toBe(code);
        expect(validate(errorSchema, response.json, 'error')).toBeDefined();
        expect(response.text).not.toMatch(/stack|at .*\.ts:/);
      }
    });

    it('names the field at fault in validation errors, as the engine does', async () => {
      const unknownField = await call('POST', '/environments', { name: 'x', hostId: 'local', extra: 1 });
      expect(unknownField.json.error).toMatchObject({ field: 'extra', message: 'extra is not a known field' });
      const badParameters = await call('POST', '/vdbs', {
        name: 'dev',
        snapshotId: 'snap-0000000000000000',
        environmentId: 'env-0000000000000000',
        parameters: { mountLocation: 'not/absolute' },
      });
      expect(badParameters.json.error).toMatchObject({
        code: ErrorNames.Validation,
        field: 'virtualSource.mountLocation',
      });
      const badId = await call('GET', `/vdbs/${encodeURIComponent('../environments')}`);
      expect(badId.json.error).toMatchObject({ code: ErrorNames.Validation, field: 'id' });
    });

    it('refuses bodies over 1 MiB', async () => {
      const response = await call('POST', '/environments', { name: 'x'.repeat(1024 * 1024 + 1), hostId: 'local' });
      expect(response.status).toBe(400);
      expect(response.json.error.code).toBe(ErrorNames.Validation);
    });
  });

  describe('GET /openapi.json', () => {
    it('serves an OpenAPI 3 document with one operation per EngineApi method, without auth', async () => {
      // Act
      const response = await call('GET', '/openapi.json', undefined, { authorization: '' });

      // Assess
      expect(response.status).toBe(200);
      const document = response.json;
      expect(document.openapi).toMatch(/^3\./);
      expect(document.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
      const operations = Object.values(document.paths as Record<string, Record<string, { operationId: string }>>)
        .flatMap((path) => Object.values(path))
        .map((operation) => operation.operationId);
      expect(operations.sort()).toEqual([...ENGINE_API_METHODS, 'health'].sort());
      expect(Object.keys(document.paths).sort()).toEqual([
        '/datasets/{id}/export',
        '/datasets/{id}/lease',
        '/datasets/{id}/settings',
        '/datasets/{id}/snapshots',
        '/dependents/{id}',
        '/dsources',
        '/dsources/{id}',
        '/environments',
        '/environments/{id}',
        '/health',
        '/snapshots',
        '/snapshots/{id}',
        '/snapshots/{id}/export',
        '/source-configs',
        '/source-configs/{id}',
        '/space/{id}',
        '/timeflows',
        '/timeflows/{id}',
        '/vdbs',
        '/vdbs/{id}',
        '/vdbs/{id}/switch-timeflow',
        '/vdbs/{id}/timeflows',
      ]);
      // The client calls exactly these operations, plus health.
      expect(Object.keys(createEngineClient({ url: running.url, token: TOKEN })).sort()).toEqual(
        [...ENGINE_API_METHODS, 'health'].sort(),
      );
      expect(response.text).not.toMatch(/prettyName|nameField|identityFields/);
      expect(document.paths['/vdbs'].post.requestBody.content['application/json'].schema.properties.parameters).toEqual(
        expect.objectContaining({ required: ['mountLocation'] }),
      );
      const body = (path: string, method: string) =>
        document.paths[path][method].requestBody.content['application/json'].schema;
      expect(Object.keys(body('/dsources', 'post').properties)).toEqual(
        expect.arrayContaining(['policy', 'eventSources']),
      );
      expect(Object.keys(body('/vdbs', 'post').properties)).toContain('policy');
      expect(body('/datasets/{id}/settings', 'patch')).toMatchObject({
        additionalProperties: false,
        properties: { policy: expect.any(Object), eventSources: { type: 'array', maxItems: 16 } },
      });
      expect(body('/snapshots/{id}', 'patch')).toMatchObject({
        additionalProperties: false,
        properties: { expiresAt: expect.any(Object), retainForever: { type: 'boolean' } },
      });
    });
  });

  it('never writes the token to the log', () => {
    expect(logged.join('\n')).not.toContain(TOKEN);
  });
});

describe('engine HTTP server with a failing engine', () => {
  it('answers an unexpected error with a generic 500 StorageError and logs the details', async () => {
    // Prepare: a stand-in whose listVdbs fails as a bug would.
    const logged: unknown[] = [];
    const failing = {
      listVdbs: async () => {
        throw new TypeError('cannot read /secret/internal/path');
      },
    } as unknown as Engine;
    const app = await buildEngineServer({
      engine: failing,
      token: TOKEN,
      log: (...entry) => logged.push(entry),
    });

    // Act
    const response = await app.inject({ method: 'GET', url: '/vdbs', headers: { authorization: `Bearer ${TOKEN}` } });
    await app.close();

    // Assess
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({
      error: {
        code: ErrorNames.Storage,
        message: expect.stringMatching(/^the engine failed unexpectedly \(request /),
        action: expect.any(String),
      },
    });
    expect(response.body).not.toMatch(/secret|TypeError|stack/);
    expect(JSON.stringify(logged)).toContain('cannot read /secret/internal/path');
  });
});
