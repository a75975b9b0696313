import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTreeManifest } from '../../lib/adapters/tree-manifest';
import { sourceChangedEntry } from '../../lib/api/dispatch-entries';
import { triggeredJobId } from '../../lib/core/triggered-runs';
import { expectTree } from '../support/e2e-checks';
import { type LocalApiSession, startLocalApiSession } from '../support/local-api-session';

interface SnapshotBody {
  id: string;
  path: string;
  provenance: { trigger: { kind: string; id?: string } };
}

/**
 * Every way a sync starts, in real local mode over HTTP: a real cron schedule, events (matching and
 * not), the API; and ten events within a second, whose syncs must queue, not overlap.
 */
describe('triggers in local mode', () => {
  let session: LocalApiSession;
  let source: string;
  let dsourceId: string;
  const call = (method: string, path: string, body?: unknown) => session.call(method, path, { body });
  const waitForJob = (id: string, timeoutMs?: number) => session.waitForJob(id, timeoutMs);

  const snapshots = async () =>
    (await call('GET', `/snapshots?dataset_id=${dsourceId}`)).body as unknown as SnapshotBody[];
  const triggered = async (kind: string) =>
    (await snapshots()).filter((snapshot) => snapshot.provenance.trigger.kind === kind);
  /** The snapshots `kind` triggered, once there are `count` of them. */
  const waitForSnapshots = async (kind: string, count: number, timeoutMs: number) => {
    for (const started = Date.now(); Date.now() - started < timeoutMs; await sleep(100)) {
      const found = await triggered(kind);
      if (found.length >= count) return found;
    }
    throw new Error(`no ${count} snapshots triggered by ${kind} within ${timeoutMs} ms`);
  };

  beforeAll(async () => {
    session = await startLocalApiSession('snapflow-triggers-e2e-');
    source = join(session.home, 'source');
    await mkdir(source);
    await writeFile(join(source, 'app.conf'), 'version 0\n');
    const environmentId = session.server.environment.id;
    const sourceConfig = await call('POST', '/source-configs', {
      environment_id: environmentId,
      name: 'app',
      path: source,
    });
    const linked = await call('POST', '/dsources', {
      name: 'app',
      source_config_id: sourceConfig.body.id,
      staging_environment_id: environmentId,
      linked_source: { sourceAddress: 'localhost', username: 'root', mountLocation: join(session.home, 'staging') },
    });
    dsourceId = linked.body.dsource_id as string;
    expect(await waitForJob((linked.body.job as { id: string }).id)).toMatchObject({ status: 'SUCCEEDED' });
  });

  afterAll(async () => {
    await session?.close();
  });

  it('starts exactly one sync when a real cron schedule fires, recorded as triggered by the schedule', async () => {
    const patched = await call('PATCH', `/dsources/${dsourceId}`, {
      policy: { schedule: { cron: '* * * * *', time_zone: 'UTC' } },
    });
    expect(patched.status).toBe(200);
    const dueAt = new Date(patched.body.next_snapshot_at as string);
    expect(dueAt.getTime() - Date.now()).toBeLessThanOrEqual(60_000);

    const [scheduled] = await waitForSnapshots('schedule', 1, 75_000);
    // Only the first run is wanted: the schedule goes before the next minute comes.
    expect((await call('PATCH', `/dsources/${dsourceId}`, { policy: { schedule: null } })).status).toBe(200);

    // The trigger id is `<dSource>@<due time>`, the time written as EventBridge Scheduler writes it.
    const triggerId = scheduled?.provenance.trigger.id ?? '';
    expect(triggerId).toMatch(new RegExp(`^${dsourceId}@\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:00Z$`));
    const time = triggerId.slice(`${dsourceId}@`.length);
    expect(Date.parse(time)).toBe(dueAt.getTime());
    // The run's job id comes from the dataset and the due time, so a repeated firing cannot start it twice.
    expect(await waitForJob(triggeredJobId('sync', [dsourceId, time]), 10_000)).toMatchObject({ status: 'SUCCEEDED' });
    expect(await triggered('schedule')).toHaveLength(1);
    expect((await call('GET', `/dsources/${dsourceId}`)).body.next_snapshot_at).toBeUndefined();
  }, 90_000);

  it('records the API and its job as the trigger of a sync it starts', async () => {
    const started = await call('POST', `/dsources/${dsourceId}/snapshots`, {});
    const jobId = (started.body.job as { id: string }).id;

    expect(await waitForJob(jobId)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await triggered('api')).map((snapshot) => snapshot.provenance.trigger)).toEqual([
      { kind: 'api', id: jobId },
    ]);
  });

  it('starts exactly one sync for a matching event, with its id as the trigger, and none for one that does not match', async () => {
    const before = (await snapshots()).length;
    const answer = await call('POST', '/events', {
      Entries: [
        sourceChangedEntry({ sourceHost: 'local', sourcePath: source }),
        sourceChangedEntry({ sourceHost: 'local', sourcePath: join(session.home, 'elsewhere') }),
        { Source: 'billing', DetailType: 'Source Data Changed', Detail: JSON.stringify({ dsourceId }) },
      ],
    });
    expect(answer.status).toBe(202);
    const [matching, ...others] = answer.body.entries as { event_id: string; jobs: { id: string }[] }[];

    expect(others.map((entry) => entry.jobs)).toEqual([[], []]);
    expect(matching?.jobs).toHaveLength(1);
    expect(await waitForJob(matching?.jobs[0]?.id as string)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await triggered('event')).map((snapshot) => snapshot.provenance.trigger)).toEqual([
      { kind: 'event', id: matching?.event_id },
    ]);
    expect(await snapshots()).toHaveLength(before + 1);
  });

  it('never runs two syncs of a dSource at once for ten events in one second, and ends with the final state', async () => {
    const jobIds: string[] = [];
    const started = Date.now();
    for (let version = 1; version <= 10; version += 1) {
      await writeFile(join(source, 'app.conf'), `version ${version}\n`);
      await writeFile(join(source, `file-${version}`), `${version}\n`);
      const answer = await call('POST', '/events', { Entries: [sourceChangedEntry({ dsourceId })] });
      const [entry] = answer.body.entries as { jobs: { id: string }[] }[];
      jobIds.push(...(entry?.jobs.map((job) => job.id) ?? []));
    }
    expect(Date.now() - started).toBeLessThan(1000);
    expect(jobIds).toHaveLength(10);

    const jobs = await Promise.all(jobIds.map((id) => waitForJob(id, 300_000)));
    expect(jobs.map((job) => job.status)).toEqual(Array(10).fill('SUCCEEDED'));
    // What each sync did while holding the dSource's lease: from its first step after the lease to
    // its last before giving it back. No two of these may overlap.
    const held = jobs
      .map((job) => {
        const leased = job.steps.filter((step) => !/^(AcquireLease|ReleaseLease)/.test(step.name));
        return {
          from: Math.min(...leased.map((step) => Date.parse(step.started_at))),
          to: Math.max(...leased.map((step) => Date.parse(step.ended_at as string))),
        };
      })
      .sort((a, b) => a.from - b.from);
    for (const [index, later] of held.entries())
      if (index > 0) expect(later.from).toBeGreaterThanOrEqual((held[index - 1] as { to: number }).to);

    const last = (await snapshots()).at(-1) as SnapshotBody;
    expect(last.provenance.trigger.kind).toBe('event');
    await expectTree(last.path, await readTreeManifest(source));
  }, 330_000);

  it('reports over the API what retention would keep and delete, and why, deleting nothing in a dry run', async () => {
    const before = await snapshots();

    const started = await call('POST', `/dsources/${dsourceId}/retention`, { dry_run: true });
    const job = await waitForJob((started.body.job as { id: string }).id);

    expect(job.status).toBe('SUCCEEDED');
    const { kept, deleted } = job.output as { kept: { id: string }[]; deleted: { id: string; reason: string }[] };
    expect([...kept, ...deleted].map((snapshot) => snapshot.id).sort()).toEqual(before.map((one) => one.id).sort());
    expect(kept[0]?.id).toBe(before.at(-1)?.id);
    expect(deleted.every((snapshot) => snapshot.reason !== '')).toBe(true);
    expect(await snapshots()).toEqual(before);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
