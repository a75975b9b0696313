import { describe, expect, it } from 'vitest';
import { type ApiRequest, findRoute, type Route, routeByOperation, routes } from '../../../lib/api/routes';
import { isSnapflowError } from '../../../lib/core/errors';
import { validate } from '../../../lib/core/validate';
import { type WorkflowName, workflowInputSchemas } from '../../../lib/core/workflow-inputs';

const all = routes as readonly Route[];
const ids = { jobId: 'provision-0123456789abcdef', targetId: 'vdb-0123456789abcdef' };
const request = (body: Record<string, unknown> = {}, id = 'vdb-0123456789abcdef'): ApiRequest => ({
  params: { id },
  query: {},
  body,
});

/** A valid body for every route that starts a workflow and takes fields. */
const sampleBodies: Record<string, Record<string, unknown>> = {
  linkDSource: {
    name: 'app',
    source_config_id: 'sc-0123456789abcdef',
    staging_environment_id: 'env-0123456789abcdef',
    linked_source: { sourceAddress: 'localhost', username: 'root', mountLocation: '/mnt/staging' },
  },
  syncDSource: { resync: true },
  provisionVdbBySnapshot: {
    name: 'app-dev',
    snapshot_id: 'snap-0123456789abcdef',
    environment_id: 'env-0123456789abcdef',
    virtual_source: { mountLocation: '/mnt/app-dev' },
  },
  refreshVdbBySnapshot: { snapshot_id: 'snap-0123456789abcdef' },
  rollbackVdbBySnapshot: { snapshot_id: 'snap-0123456789abcdef' },
  exportVdb: { environment_id: 'env-0123456789abcdef', target_path: '/srv/restore' },
};

describe('routes', () => {
  it('have unique operation ids and unique method and path pairs', () => {
    expect(new Set(all.map((route) => route.operationId)).size).toBe(all.length);
    expect(new Set(all.map((route) => `${route.method} ${route.path}`)).size).toBe(all.length);
  });

  it('start every workflow there is, each from one route (retention from one per kind of dataset)', () => {
    const started = all.flatMap((route) => (route.kind === 'workflow' ? [route.workflow] : []));
    expect([...started].sort()).toEqual([...Object.keys(workflowInputSchemas), 'retention'].sort());
  });

  it('answer 202 for every route that starts jobs and never for the others', () => {
    for (const route of all)
      expect(route.status === 202, route.operationId).toBe(route.kind === 'workflow' || route.kind === 'events');
  });

  it('name request fields in snake_case, except inside the plugin parameter objects and PutEvents entries', () => {
    for (const route of all) {
      if (route.kind === 'events') continue;
      for (const field of Object.keys(route.body?.properties ?? {}))
        expect(field, route.operationId).toMatch(/^[a-z_]+$/);
      for (const field of Object.keys(route.query?.properties ?? {}))
        expect(field, route.operationId).toMatch(/^[a-z_]+$/);
    }
    expect(Object.keys(routeByOperation('provisionVdbBySnapshot').body?.properties ?? {})).toEqual([
      'name',
      'snapshot_id',
      'source_data_id',
      'environment_id',
      'virtual_source',
      'policy',
    ]);
  });

  it('map a valid body of every workflow route to a valid input of its workflow', () => {
    for (const route of all) {
      if (route.kind !== 'workflow') continue;
      const body = sampleBodies[route.operationId] ?? {};
      validate(route.body ?? { type: 'object' }, body, 'body');
      const input = route.input(request(body, 'ds-0123456789abcdef'), {
        ...ids,
        targetId: route.target.kind === 'vdb' ? 'vdb-0123456789abcdef' : 'ds-0123456789abcdef',
      });
      expect(() => validate(workflowInputSchemas[route.workflow as WorkflowName], input, 'input')).not.toThrow();
    }
  });

  it('give a new dSource or VDB the id the API chose, and an existing one the id in the path', () => {
    const link = routeByOperation('linkDSource');
    const refresh = routeByOperation('refreshVdbBySnapshot');
    if (link.kind !== 'workflow' || refresh.kind !== 'workflow') throw new Error('not workflow routes');

    expect(link.target).toEqual({ kind: 'dsource', created: true });
    expect(link.input(request(sampleBodies.linkDSource), { jobId: 'link-0123456789abcdef', targetId: 'ds-1' })).toEqual(
      {
        name: 'app',
        sourceConfigId: 'sc-0123456789abcdef',
        stagingEnvironmentId: 'env-0123456789abcdef',
        linkedSource: { sourceAddress: 'localhost', username: 'root', mountLocation: '/mnt/staging' },
        dsourceId: 'ds-1',
      },
    );
    expect(refresh.target).toEqual({ kind: 'vdb', created: false });
    expect(refresh.input(request({}), ids)).toEqual({ vdbId: 'vdb-0123456789abcdef' });
  });

  it('record the API and the job as the trigger of a sync and a VDB snapshot', () => {
    const sync = routeByOperation('syncDSource');
    const snapshot = routeByOperation('snapshotVdb');
    if (sync.kind !== 'workflow' || snapshot.kind !== 'workflow') throw new Error('not workflow routes');

    expect(sync.input(request({}), { jobId: 'sync-0123456789abcdef', targetId: 'ds-1' })).toEqual({
      dsourceId: 'ds-1',
      snapshotParameters: { resync: false },
      trigger: { kind: 'api', id: 'sync-0123456789abcdef' },
    });
    expect(snapshot.input(request({}), { jobId: 'snapshot-vdb-0123456789abcdef', targetId: 'vdb-1' })).toEqual({
      vdbId: 'vdb-1',
      trigger: { kind: 'api', id: 'snapshot-vdb-0123456789abcdef' },
    });
  });

  it('provision from exactly one of a snapshot and a source', () => {
    const provision = routeByOperation('provisionVdbBySnapshot');
    if (provision.kind !== 'workflow') throw new Error('not a workflow route');
    const { snapshot_id: _snapshot, ...neither } = sampleBodies.provisionVdbBySnapshot as Record<string, unknown>;

    expect(provision.input(request({ ...neither, source_data_id: 'ds-0123456789abcdef' }), ids)).toMatchObject({
      sourceDataId: 'ds-0123456789abcdef',
      vdbId: ids.targetId,
    });
    for (const body of [neither, { ...neither, snapshot_id: 'snap-1', source_data_id: 'ds-1' }]) {
      let thrown: unknown;
      try {
        provision.input(request(body), ids);
      } catch (error) {
        thrown = error;
      }
      expect(isSnapflowError(thrown, 'ValidationError')).toBe(true);
      expect((thrown as { field: string }).field).toBe('body.snapshot_id');
    }
  });

  it('check the record a path names before workflows on it, and dependents before deletes', () => {
    for (const route of all) {
      if (route.path.includes('{id}') && route.kind === 'workflow')
        expect(route.expects, route.operationId).toBeDefined();
      if (route.method === 'DELETE') expect(route.refuseDependents, route.operationId).toBe(true);
      if (route.refuseDependents === true) expect(route.expects, route.operationId).toBeDefined();
    }
  });

  it('are found by method and path template', () => {
    expect(findRoute('POST', '/vdbs/{id}/rollback_by_snapshot')?.operationId).toBe('rollbackVdbBySnapshot');
    expect(findRoute('GET', '/vdbs/provision_by_snapshot')).toBeUndefined();
  });
});
