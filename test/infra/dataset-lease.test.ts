import { afterAll, describe, expect, it } from 'vitest';
import { ErrorNames, QueueingErrorNames, SnapflowError } from '../../lib/core/errors';
import { LEASED_DATASET_FIELD, type LeasedWorkflow } from '../../lib/core/steps/dataset-lease';
import { type WorkflowName, workflowInputSchemas } from '../../lib/core/workflow-inputs';
import { DEFAULT_TIMEOUT_SECONDS } from '../../lib/infra/ssm-documents';
import { type AslState, listStates } from '../../lib/local/list-states';
import { localRetryIntervalsMs } from '../../lib/local/local-workflows';
import { seedSnapshot, seedVdb } from '../support/engine-fixtures';
import { FakeEngine } from '../support/fake-engine';
import { closeWorkflows, FakeHosts, type HostOutcome, runWorkflow } from '../support/run-workflow';
import { snapflowTemplate, workflowDefinition } from '../support/snapflow-template';

afterAll(closeWorkflows);

const LEASED = Object.keys(LEASED_DATASET_FIELD) as LeasedWorkflow[];
/** A Standard execution's history holds 25,000 events; a failed Lambda attempt writes three. */
const HISTORY_EVENTS = 25_000;

type Retrier = NonNullable<Extract<AslState, { Type: 'Task' }>['Retry']>[number];

/** The AcquireLease state of a workflow, with its lease TTL and the Retry that queues the run. */
function acquireState(workflow: WorkflowName) {
  const state = workflowDefinition(workflow).States.AcquireLease;
  if (state?.Type !== 'Task') throw new Error(`${workflow} has no AcquireLease task`);
  const parameters = state.Parameters as Record<string, unknown>;
  const queue = (state.Retry ?? []).find((retrier) =>
    retrier.ErrorEquals.every((name) => (QueueingErrorNames as readonly string[]).includes(name)),
  );
  return { state, parameters, ttlSeconds: Number(parameters.ttlSeconds), queue };
}

/** How long Step Functions waits in all across a retrier's attempts (no jitter). */
function totalWaitSeconds(retrier: Retrier): number {
  let total = 0;
  for (let attempt = 0; attempt < (retrier.MaxAttempts ?? 3); attempt += 1)
    total += Math.min(
      (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** attempt,
      retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY,
    );
  return total;
}

/** Delivery plus execution timeout of every host command a workflow may send. */
function hostCommandSeconds(workflow: WorkflowName): number {
  const { resolved } = snapflowTemplate();
  return listStates(workflowDefinition(workflow))
    .filter(([name]) => name.endsWith('.Send'))
    .reduce((sum, [, state]) => {
      const parameters = (state as unknown as { Parameters: { DocumentName: string; TimeoutSeconds: number } })
        .Parameters;
      const document = Object.values(resolved.documents).find((d) => d.name === parameters.DocumentName);
      return sum + parameters.TimeoutSeconds + Number(document?.content.mainSteps[0]?.inputs.timeoutSeconds);
    }, 0);
}

/** The top-level states that go to `target` next, by Next, Default, a Choice rule or a Catch. */
function statesGoingTo(workflow: WorkflowName, target: string): string[] {
  return Object.entries(workflowDefinition(workflow).States)
    .filter(([, state]) => {
      const fields = state as {
        Next?: string;
        Default?: string;
        Choices?: { Next: string }[];
        Catch?: { Next: string }[];
      };
      return [fields.Next, fields.Default, ...(fields.Choices ?? []), ...(fields.Catch ?? [])].some(
        (next) => next === target || (typeof next === 'object' && next.Next === target),
      );
    })
    .map(([name]) => name)
    .sort();
}

describe('dataset leases in the ASL', () => {
  it('lease every workflow that changes an existing dataset; link and provision create theirs', () => {
    expect(
      (Object.keys(workflowInputSchemas) as WorkflowName[]).filter((workflow) => !(workflow in LEASED_DATASET_FIELD)),
    ).toEqual(['link', 'provision']);
    for (const workflow of ['link', 'provision'] as const)
      expect(workflowDefinition(workflow).States.AcquireLease).toBeUndefined();
  });

  it.each(LEASED)(
    '%s first takes the lease of the dataset its input names, as the execution, for as long as it can run',
    (workflow) => {
      const definition = workflowDefinition(workflow);
      const { state, parameters, ttlSeconds } = acquireState(workflow);

      expect(definition.StartAt).toBe('AcquireLease');
      expect(parameters).toEqual({
        workflow,
        'request.$': '$',
        'holder.$': '$$.Execution.Id',
        ttlSeconds: expect.any(Number),
      });
      expect(ttlSeconds).toBeGreaterThan(hostCommandSeconds(workflow));
      // The input stays as it came; a failed acquire has nothing to give back.
      expect(state.ResultPath).toBeNull();
      expect(state.Catch).toBeUndefined();
    },
  );

  it('queues a run, without jitter, as long as any run may hold a lease, within the execution history', () => {
    const longestLease = Math.max(...LEASED.map((workflow) => acquireState(workflow).ttlSeconds));
    expect(longestLease).toBeGreaterThan(DEFAULT_TIMEOUT_SECONDS.copy);

    for (const workflow of LEASED) {
      const { queue } = acquireState(workflow);
      expect(queue, workflow).toMatchObject({ ErrorEquals: [...QueueingErrorNames], BackoffRate: 1.5 });
      expect(queue?.JitterStrategy, workflow).toBeUndefined();
      expect(totalWaitSeconds(queue as Retrier), workflow).toBeGreaterThanOrEqual(longestLease);
      expect(3 * (queue?.MaxAttempts ?? 0), workflow).toBeLessThan(HISTORY_EVENTS / 10);
    }
  });

  it.each(LEASED)('%s gives the lease back on success, and after every failure before it fails', (workflow) => {
    const { States } = workflowDefinition(workflow);
    const field = LEASED_DATASET_FIELD[workflow];
    const release = { datasetId: `$.${field}`, holder: '$$.Execution.Id' };

    const fails = Object.entries(States).filter(([, state]) => state.Type === 'Fail');
    expect(fails.map(([name]) => name)).toEqual(['Failed']);
    expect(statesGoingTo(workflow, 'Failed')).toEqual(['ReleaseLeaseAfterFailure']);
    expect(States.ReleaseLeaseAfterFailure).toMatchObject({
      Parameters: { 'datasetId.$': release.datasetId, 'holder.$': release.holder },
      Next: 'Failed',
      // Its own failure does not replace the error the execution fails with.
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.leaseError', Next: 'Failed' }],
    });
    expect(statesGoingTo(workflow, 'Output')).toEqual(['ReleaseLease']);
    expect(States.ReleaseLease).toMatchObject({
      Parameters: { 'datasetId.$': release.datasetId, 'holder.$': release.holder },
      Next: 'Output',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.leaseError', Next: 'Output' }],
    });
  });

  it.each(LEASED)(
    '%s queues for its lease locally at one attempt a second, and retries nothing else with a pause',
    (workflow) => {
      const { state } = acquireState(workflow);

      const intervals = localRetryIntervalsMs(state, 0);

      expect(intervals).toEqual(
        (state.Retry ?? []).map((retrier) => (retrier.ErrorEquals.includes(ErrorNames.DatasetBusy) ? 1000 : 0)),
      );
      expect(intervals).toContain(1000);
    },
  );

  it('waits for the sync a link starts as long as it may queue for its lease and then run', () => {
    const sync = workflowDefinition('link').States.Sync;
    const { ttlSeconds, queue } = acquireState('sync');
    const queued = totalWaitSeconds(queue as Retrier);

    const timeout = sync?.Type === 'Task' ? (sync.TimeoutSeconds ?? 0) : 0;

    expect(timeout).toBeGreaterThanOrEqual(queued + ttlSeconds);
    expect(timeout).toBeLessThanOrEqual(Math.ceil(queued) + ttlSeconds);
  });
});

const failedWith = (line: string): HostOutcome => ({
  Status: 'Failed',
  ResponseCode: 1,
  StandardErrorContent: `${line}\n`,
});
const copied = {
  StandardOutputContent: 'Number of regular files transferred: 1\nTotal transferred file size: 1 bytes\n',
};
const storageError = (message: string) => new SnapflowError(ErrorNames.Storage, message, { action: 'Retry.' });
const leaseCalls = (engine: FakeEngine) =>
  engine.calls.filter((call) => /Lease$/.test(call.method)).map((call) => [call.method, ...call.args]);

describe('dataset leases when workflows run', () => {
  async function syncSetUp(hosts = new FakeHosts({ copy: copied })) {
    const engine = new FakeEngine();
    const { dsource } = await seedSnapshot(engine);
    const input = { dsourceId: dsource.id, snapshotParameters: { resync: false }, trigger: { kind: 'api' } };
    return { engine, hosts, dsource, input };
  }

  it("takes the dSource's lease as the execution before anything else, and gives it back last", async () => {
    const { engine, hosts, dsource, input } = await syncSetUp();

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result.status).toBe('SUCCEEDED');
    const holder = expect.stringMatching(/^arn:aws:states:[^:]+:\d+:execution:Sync\w*:[\w-]+$/);
    expect(leaseCalls(engine)).toEqual([
      ['acquireLease', dsource.id, { holder, ttlSeconds: acquireState('sync').ttlSeconds }],
      ['releaseLease', dsource.id, holder],
    ]);
    expect(engine.methods[0]).toBe('acquireLease');
    expect(engine.methods.at(-1)).toBe('releaseLease');
    expect(engine.leases.size).toBe(0);
  });

  it('waits while another run holds the lease, then syncs', async () => {
    const { engine, hosts, dsource, input } = await syncSetUp();
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    engine.leases.set(dsource.id, { datasetId: dsource.id, holder: 'arn:aws:states:::execution:Other:x', expiresAt });

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result.status).toBe('SUCCEEDED');
    expect(engine.methods.filter((method) => method === 'acquireLease').length).toBeGreaterThanOrEqual(2);
    // Nothing happened on the host until the lease was the sync's.
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(hosts.documents).toEqual(['mount', 'copy', 'unmount']);
  });

  it('releases the lease after the undo of a failed sync', async () => {
    const hosts = new FakeHosts({ copy: failedWith('snapflow-error: CopyFailedError: rsync failed') });
    const { engine, input } = await syncSetUp(hosts);

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'CopyFailedError' });
    expect(hosts.documents).toEqual(['mount', 'copy', 'unmount']);
    expect(engine.methods.at(-1)).toBe('releaseLease');
    expect(engine.leases.size).toBe(0);
  });

  it('fails with the original error when the release after a failure fails too', async () => {
    const hosts = new FakeHosts({ copy: failedWith('snapflow-error: CopyFailedError: rsync failed') });
    const { engine, input } = await syncSetUp(hosts);
    engine.failNext('releaseLease', storageError('metadata write failed'));

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'CopyFailedError',
      message: 'rsync failed (host i-0staging)',
    });
  });

  it('succeeds when only the release fails: the work is done, and the lease lapses in time', async () => {
    const { engine, hosts, dsource, input } = await syncSetUp();
    engine.failNext('releaseLease', storageError('metadata write failed'));

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { dsourceId: dsource.id } });
  });

  it('releases the lease when the first step after it fails', async () => {
    const { engine, hosts, dsource, input } = await syncSetUp();
    engine.failNext('getDSource', storageError('metadata read failed'));

    const result = await runWorkflow('sync', input, { engine }, hosts);

    expect(result).toMatchObject({ status: 'FAILED', error: 'StorageError' });
    expect(leaseCalls(engine).map(([method]) => method)).toEqual(['acquireLease', 'releaseLease']);
    expect(engine.leases.has(dsource.id)).toBe(false);
    expect(hosts.sent).toEqual([]);
  });

  it('names the field of a dataset that does not exist, and takes nothing', async () => {
    const { engine, hosts, input } = await syncSetUp();

    const result = await runWorkflow('sync', { ...input, dsourceId: 'ds-00000000000000ff' }, { engine }, hosts);

    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'NotFoundError',
      message: 'dsourceId ds-00000000000000ff does not exist',
    });
    expect(leaseCalls(engine).map(([method]) => method)).toEqual(['acquireLease']);
  });

  it.each(['refresh', 'rollback'] as const)(
    "%s takes the VDB's lease, and releases it after restoring the previous timeflow",
    async (workflow) => {
      const engine = new FakeEngine();
      const { vdb, vdbSnapshot } = await seedVdb(engine);
      const hosts = new FakeHosts({
        mount: [failedWith('snapflow-error: MountPointBusyError: MountPath /mnt/vdbs/dev is busy')],
      });
      const input: Record<string, string> =
        workflow === 'refresh' ? { vdbId: vdb.id } : { vdbId: vdb.id, snapshotId: vdbSnapshot.id };

      const result = await runWorkflow(workflow, input, { engine }, hosts);

      expect(result).toMatchObject({ status: 'FAILED', error: 'MountPointBusyError' });
      // The new timeflow's mount failed, it was unmounted, and the previous one mounted again.
      expect(hosts.documents).toEqual(['unmount', 'mount', 'unmount', 'mount']);
      expect(leaseCalls(engine)).toEqual([
        ['acquireLease', vdb.id, expect.objectContaining({ holder: expect.any(String) })],
        ['releaseLease', vdb.id, expect.any(String)],
      ]);
      expect(engine.methods.at(-1)).toBe('releaseLease');
      expect(engine.vdbs.get(vdb.id)?.currentTimeflowId).toBe(vdb.currentTimeflowId);

      const again = await runWorkflow(workflow, input, { engine }, new FakeHosts());

      expect(again.status).toBe('SUCCEEDED');
      expect(engine.leases.size).toBe(0);
    },
  );
});
