import { describe, expect, it } from 'vitest';
import type { ApiPorts, Job, JobReader, WorkflowStarter } from '../../../lib/api/api-ports';
import { BODY_LIMIT_BYTES, handleRequest } from '../../../lib/api/handle-request';
import { type OperationId, routeByOperation } from '../../../lib/api/routes';
import { ErrorNames, SnapflowError } from '../../../lib/core/errors';
import type { EngineApi } from '../../../lib/core/ports';
import type { WorkflowName } from '../../../lib/core/workflow-inputs';
import { records, stubEngine } from '../../support/stub-engine';
import { stubSchedules } from '../../support/stub-schedules';

/** Records what it starts; answers every job as RUNNING. */
class RecordingStarter implements WorkflowStarter, JobReader {
  readonly started: { workflow: WorkflowName; input: unknown; jobId: string }[] = [];
  readonly jobs = new Map<string, Job>();

  async start(workflow: WorkflowName, input: unknown, jobId: string): Promise<Job> {
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
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new SnapflowError(ErrorNames.NotFound, `there is no job ${jobId}`, { action: 'x' });
    return job;
  }
}

function setup(engine: Partial<EngineApi> = {}) {
  const workflows = new RecordingStarter();
  const schedules = stubSchedules({ [records.dsource.id]: new Date('2026-11-22T01:30:00.000Z') });
  const ports: ApiPorts = { engine: stubEngine(engine), workflows, jobs: workflows, schedules };
  const send = (
    operationId: OperationId,
    request: { id?: string; query?: Record<string, string>; body?: string | object } = {},
  ) =>
    handleRequest(
      {
        route: routeByOperation(operationId),
        params: request.id === undefined ? {} : { id: request.id },
        query: request.query ?? {},
        body: typeof request.body === 'object' ? JSON.stringify(request.body) : request.body,
      },
      ports,
    );
  return { ports, workflows, schedules, send };
}

const provisionBody = {
  name: 'app-dev',
  snapshot_id: records.snapshot.id,
  environment_id: records.environment.id,
  virtual_source: { mountLocation: '/mnt/app-dev' },
};

describe('handleRequest', () => {
  it('answers 201 with the created environment in snake_case', async () => {
    const { send, ports } = setup({ createEnvironment: async () => records.environment });

    const answer = await send('createEnvironment', { body: { name: 'build-host', host_id: 'local' } });

    expect(answer).toEqual({
      statusCode: 201,
      body: {
        id: records.environment.id,
        name: 'build-host',
        host_id: 'local',
        scratch_path: '/var/tmp/snapflow',
        created_at: records.environment.createdAt,
      },
    });
    expect((ports.engine as ReturnType<typeof stubEngine>).calls).toEqual([
      ['createEnvironment', [{ name: 'build-host', hostId: 'local' }]],
    ]);
  });

  it('lists snapshots of one dataset when asked with dataset_id', async () => {
    const { send, ports } = setup({ listSnapshots: async () => [records.snapshot] });

    const answer = await send('listSnapshots', { query: { dataset_id: records.dsource.id } });

    expect(answer.statusCode).toBe(200);
    expect(answer.body).toMatchObject([{ id: records.snapshot.id, provenance: { bytes_transferred: 3_500_000 } }]);
    expect((ports.engine as ReturnType<typeof stubEngine>).calls).toEqual([
      ['listSnapshots', [{ datasetId: records.dsource.id }]],
    ]);
  });

  it('starts provision with an id it chose and answers 202 with the job and that id', async () => {
    const { send, workflows } = setup();

    const answer = await send('provisionVdbBySnapshot', { body: provisionBody });

    expect(answer.statusCode).toBe(202);
    const body = answer.body as { job: { id: string; status: string; target_id: string }; vdb_id: string };
    expect(body.vdb_id).toMatch(/^vdb-[0-9a-f]{16}$/);
    expect(body.job).toMatchObject({ status: 'RUNNING', workflow: 'provision', target_id: body.vdb_id, steps: [] });
    expect(body.job.id).toMatch(/^provision-[0-9a-f]{16}$/);
    expect(workflows.started).toEqual([
      {
        workflow: 'provision',
        jobId: body.job.id,
        input: {
          name: 'app-dev',
          snapshotId: records.snapshot.id,
          environmentId: records.environment.id,
          virtualSource: { mountLocation: '/mnt/app-dev' },
          vdbId: body.vdb_id,
        },
      },
    ]);
  });

  it('checks that the VDB exists before starting a workflow on it', async () => {
    const { send, workflows } = setup({
      getVdb: async (id) => {
        throw new SnapflowError(ErrorNames.NotFound, `there is no VDB ${id}`, { action: 'List the VDBs.' });
      },
    });

    const answer = await send('rollbackVdbBySnapshot', {
      id: 'vdb-00000000000000ff',
      body: { snapshot_id: records.snapshot.id },
    });

    expect(answer).toEqual({
      statusCode: 404,
      body: {
        error: { code: 'NotFoundError', message: 'there is no VDB vdb-00000000000000ff', action: 'List the VDBs.' },
      },
    });
    expect(workflows.started).toEqual([]);
  });

  it('answers 409 at once when deleting a VDB others were provisioned from', async () => {
    const { send, workflows } = setup({
      getVdb: async () => records.vdb,
      listDependents: async () => [
        { kind: 'vdb', id: 'vdb-00000000000000b2', reason: 'VDB vdb-00000000000000b2 was provisioned from it' },
      ],
    });

    const answer = await send('deleteVdb', { id: records.vdb.id });

    expect(answer.statusCode).toBe(409);
    expect(answer.body).toEqual({
      error: {
        code: 'DependentsExistError',
        message: `VDB ${records.vdb.id} cannot be deleted: 1 depend on it: vdb vdb-00000000000000b2 (VDB vdb-00000000000000b2 was provisioned from it)`,
        action: 'Delete the dependents listed first (child VDBs before their parents), then delete again.',
        field: 'path.id',
      },
    });
    expect(workflows.started).toEqual([]);
  });

  it('starts delete-vdb when nothing depends on the VDB', async () => {
    const { send, workflows } = setup({ getVdb: async () => records.vdb, listDependents: async () => [] });

    const answer = await send('deleteVdb', { id: records.vdb.id });

    expect(answer.statusCode).toBe(202);
    expect(answer.body).toMatchObject({ vdb_id: records.vdb.id, job: { workflow: 'delete-vdb' } });
    expect(workflows.started[0]?.input).toEqual({ vdbId: records.vdb.id });
  });

  it('answers 204 without a body for an environment deleted at once', async () => {
    const { send } = setup({
      getEnvironment: async () => records.environment,
      listDependents: async () => [],
      deleteEnvironment: async () => undefined,
    });

    expect(await send('deleteEnvironment', { id: records.environment.id })).toEqual({ statusCode: 204 });
  });

  it('names the field at fault in the plugin parameters', async () => {
    const { send, workflows } = setup();

    const answer = await send('provisionVdbBySnapshot', {
      body: { ...provisionBody, virtual_source: { mountLocation: 'relative/path' } },
    });

    expect(answer.statusCode).toBe(400);
    expect(answer.body).toMatchObject({
      error: {
        code: 'ValidationError',
        field: 'body.virtual_source.mountLocation',
        message: expect.stringContaining('body.virtual_source.mountLocation is not an absolute path'),
      },
    });
    expect(workflows.started).toEqual([]);
  });

  it('refuses fields the route does not know, naming them', async () => {
    const { send } = setup();

    const answer = await send('provisionVdbBySnapshot', { body: { ...provisionBody, vdbId: 'vdb-0000000000000001' } });

    expect(answer.body).toMatchObject({
      error: { code: 'ValidationError', message: 'body.vdbId is not a known field', field: 'body.vdbId' },
    });
  });

  it('refuses a missing field, a body that is not JSON, one too large, and one where none is taken', async () => {
    const { send } = setup();

    expect((await send('createSourceConfig', { body: { name: 'x', path: '/srv/x' } })).body).toMatchObject({
      error: { message: 'body.environment_id is missing' },
    });
    expect((await send('createEnvironment', { body: '{"name":' })).body).toMatchObject({
      error: { code: 'ValidationError', message: expect.stringMatching(/^body is not JSON/) },
    });
    expect(
      (await send('createEnvironment', { body: JSON.stringify({ name: 'x'.repeat(BODY_LIMIT_BYTES) }) })).body,
    ).toMatchObject({ error: { message: expect.stringContaining(`the limit of ${BODY_LIMIT_BYTES} bytes`) } });
    expect((await send('listVdbs', { body: { x: 1 } })).body).toMatchObject({
      error: { code: 'ValidationError', message: 'GET /vdbs takes no body' },
    });
  });

  it('refuses query parameters the route does not know', async () => {
    const { send } = setup();

    const answer = await send('listVdbs', { query: { status: 'RUNNING' } });

    expect(answer).toMatchObject({
      statusCode: 400,
      body: { error: { message: 'query.status is not a known field' } },
    });
  });

  it('takes an empty body as an empty object', async () => {
    const { send, workflows } = setup({ getVdb: async () => records.vdb });

    expect((await send('snapshotVdb', { id: records.vdb.id, body: '' })).statusCode).toBe(202);
    expect((await send('refreshVdbBySnapshot', { id: records.vdb.id })).statusCode).toBe(202);
    expect(workflows.started.map((start) => start.workflow)).toEqual(['snapshot-vdb', 'refresh']);
  });

  it('answers a job with its steps and its error parsed from the Lambda cause', async () => {
    const { send, workflows } = setup();
    workflows.jobs.set('provision-0123456789abcdef', {
      id: 'provision-0123456789abcdef',
      workflow: 'provision',
      status: 'FAILED',
      input: { vdbId: 'vdb-0123456789abcdef' },
      startedAt: '2026-11-21T10:00:00.000Z',
      endedAt: '2026-11-21T10:00:01.000Z',
      steps: [
        {
          name: 'CheckMountPoint',
          status: 'CAUGHT',
          startedAt: '2026-11-21T10:00:00.100Z',
          endedAt: '2026-11-21T10:00:00.300Z',
          durationMs: 200,
        },
      ],
      error: {
        name: 'MountPointNotEmptyError',
        cause: JSON.stringify({
          errorType: 'MountPointNotEmptyError',
          errorMessage: 'virtualSource.mountLocation /mnt/x is not empty\nAction: Choose an empty directory.',
          trace: ['at x'],
        }),
      },
    });

    const answer = await send('getJob', { id: 'provision-0123456789abcdef' });

    expect(answer).toEqual({
      statusCode: 200,
      body: {
        id: 'provision-0123456789abcdef',
        workflow: 'provision',
        status: 'FAILED',
        target_id: 'vdb-0123456789abcdef',
        started_at: '2026-11-21T10:00:00.000Z',
        ended_at: '2026-11-21T10:00:01.000Z',
        steps: [
          {
            name: 'CheckMountPoint',
            status: 'CAUGHT',
            started_at: '2026-11-21T10:00:00.100Z',
            ended_at: '2026-11-21T10:00:00.300Z',
            duration_ms: 200,
          },
        ],
        error: {
          code: 'MountPointNotEmptyError',
          message: 'virtualSource.mountLocation /mnt/x is not empty',
          action: 'Choose an empty directory.',
        },
      },
    });
    expect((await send('getJob', { id: 'provision-00000000000000ff' })).statusCode).toBe(404);
  });

  it('answers 500 without details for an error that is not Snapflow’s, and tells the log', async () => {
    const logged: unknown[] = [];
    const ports: ApiPorts = {
      engine: stubEngine({}),
      workflows: new RecordingStarter(),
      jobs: new RecordingStarter(),
      schedules: stubSchedules(),
    };

    const answer = await handleRequest(
      { route: routeByOperation('listVdbs'), params: {}, query: {}, body: undefined },
      ports,
      { logUnexpected: (error) => logged.push(error) },
    );

    expect(answer).toEqual({
      statusCode: 500,
      body: {
        error: {
          code: 'StorageError',
          message: 'the API failed unexpectedly',
          action: 'See the API log for the cause, then try again.',
        },
      },
    });
    expect(String(logged[0])).toContain('does not expect listVdbs');
  });
});
