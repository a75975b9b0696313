import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalApiSession, startLocalApiSession } from '../support/local-api-session';

describe('the local API over HTTP', () => {
  let session: LocalApiSession;

  beforeAll(async () => {
    session = await startLocalApiSession();
  });

  afterAll(async () => {
    await session?.close();
  });

  it('writes its URL and token where only its owner reads them, listening on loopback', async () => {
    expect((await stat(join(session.home, 'api.json'))).mode & 0o777).toBe(0o600);
    expect(session.file.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(session.file.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers 401 in the error shape without the token or with a wrong one', async () => {
    for (const token of [null, 'not-the-token']) {
      const answer = await session.call('GET', '/environments', { token });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: 'UnauthorizedError', action: expect.any(String) } });
    }
  });

  it('links a dSource and follows the job to its end, then deletes it', async () => {
    const source = join(session.home, 'source');
    await mkdir(source);
    await writeFile(join(source, 'app.conf'), 'version 1\n');
    const environmentId = session.server.environment.id;
    const sourceConfig = await session.call('POST', '/source-configs', {
      body: { environment_id: environmentId, name: 'app', path: source },
    });
    expect(sourceConfig.status).toBe(201);

    const linked = await session.call('POST', '/dsources', {
      body: {
        name: 'app',
        source_config_id: sourceConfig.body.id,
        staging_environment_id: environmentId,
        linked_source: { sourceAddress: 'localhost', username: 'root', mountLocation: join(session.home, 'staging') },
      },
    });
    expect(linked.status).toBe(202);
    const dsourceId = linked.body.dsource_id as string;
    const job = await session.waitForJob((linked.body.job as { id: string }).id);

    expect(job).toMatchObject({ status: 'SUCCEEDED', workflow: 'link', target_id: dsourceId });
    expect(job.steps.map((step) => step.name)).toContain('CreateDSource');
    expect((await session.call('GET', `/dsources/${dsourceId}`)).body).toMatchObject({ id: dsourceId, name: 'app' });
    const snapshots = await session.call('GET', `/snapshots?dataset_id=${dsourceId}`);
    expect(snapshots.body).toEqual([expect.objectContaining({ dataset_id: dsourceId })]);

    const deleted = await session.call('DELETE', `/dsources/${dsourceId}`);
    expect(deleted.status).toBe(202);
    expect(await session.waitForJob((deleted.body.job as { id: string }).id)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await session.call('GET', `/dsources/${dsourceId}`)).status).toBe(404);
  });

  it('answers 400 naming the field at fault, before any job starts', async () => {
    const jobs = await session.recordedJobIds();

    const answer = await session.call('POST', '/vdbs/provision_by_snapshot', {
      body: {
        name: 'x',
        snapshot_id: 'snap-0123456789abcdef',
        environment_id: session.server.environment.id,
        virtual_source: { mountLocation: 'not/absolute' },
      },
    });

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { code: 'ValidationError', field: 'body.virtual_source.mountLocation' },
    });
    expect(answer.body.job).toBeUndefined();
    expect(await session.recordedJobIds()).toEqual(jobs);
  });

  it('removes api.json when it stops', async () => {
    await session.stop();

    await expect(stat(join(session.home, 'api.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
