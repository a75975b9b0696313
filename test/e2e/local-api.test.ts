import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiFile } from '../../lib/local/api-file';
import { type LocalServer, serveLocal } from '../../lib/local/serve-local';
import { mountPointsBelow } from '../support/local-session';

const run = promisify(execFile);

describe('the local API over HTTP', () => {
  let home: string;
  let server: LocalServer | undefined;
  let file: ApiFile;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'snapflow-api-e2e-'));
    server = await serveLocal({ home, backend: 'auto' });
    file = JSON.parse(await readFile(join(home, 'api.json'), 'utf8')) as ApiFile;
  });

  afterAll(async () => {
    try {
      await server?.close();
    } finally {
      for (const mount of (await mountPointsBelow(home)).sort().reverse()) await run('umount', [mount]);
      await rm(home, { recursive: true, force: true });
    }
  });

  const call = async (method: string, path: string, options: { token?: string | null; body?: unknown } = {}) => {
    const token = options.token === undefined ? file.token : options.token;
    const response = await fetch(`${file.url}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> };
  };

  const waitForJob = async (id: string) => {
    for (let attempt = 0; attempt < 600; attempt += 1) {
      const job = await call('GET', `/jobs/${id}`);
      if (job.body.status !== 'RUNNING') return job.body;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`job ${id} did not end`);
  };

  it('writes its URL and token where only its owner reads them, listening on loopback', async () => {
    expect((await stat(join(home, 'api.json'))).mode & 0o777).toBe(0o600);
    expect(file.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(file.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers 401 in the error shape without the token or with a wrong one', async () => {
    for (const token of [null, 'not-the-token']) {
      const answer = await call('GET', '/environments', { token });
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ error: { code: 'UnauthorizedError', action: expect.any(String) } });
    }
  });

  it('links a dSource and follows the job to its end, then deletes it', async () => {
    const source = join(home, 'source');
    await mkdir(source);
    await writeFile(join(source, 'app.conf'), 'version 1\n');
    const environmentId = server?.environment.id;
    const sourceConfig = await call('POST', '/source-configs', {
      body: { environment_id: environmentId, name: 'app', path: source },
    });
    expect(sourceConfig.status).toBe(201);

    const linked = await call('POST', '/dsources', {
      body: {
        name: 'app',
        source_config_id: sourceConfig.body.id,
        staging_environment_id: environmentId,
        linked_source: { sourceAddress: 'localhost', username: 'root', mountLocation: join(home, 'staging') },
      },
    });
    expect(linked.status).toBe(202);
    const dsourceId = linked.body.dsource_id as string;
    const job = await waitForJob((linked.body.job as { id: string }).id);

    expect(job).toMatchObject({ status: 'SUCCEEDED', workflow: 'link', target_id: dsourceId });
    expect((job.steps as { name: string }[]).map((step) => step.name)).toContain('CreateDSource');
    expect((await call('GET', `/dsources/${dsourceId}`)).body).toMatchObject({ id: dsourceId, name: 'app' });
    const snapshots = await call('GET', `/snapshots?dataset_id=${dsourceId}`);
    expect(snapshots.body).toEqual([expect.objectContaining({ dataset_id: dsourceId })]);

    const deleted = await call('DELETE', `/dsources/${dsourceId}`);
    expect(deleted.status).toBe(202);
    expect(await waitForJob((deleted.body.job as { id: string }).id)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await call('GET', `/dsources/${dsourceId}`)).status).toBe(404);
  });

  it('answers 400 naming the field at fault, before any job starts', async () => {
    const answer = await call('POST', '/vdbs/provision_by_snapshot', {
      body: {
        name: 'x',
        snapshot_id: 'snap-0123456789abcdef',
        environment_id: server?.environment.id,
        virtual_source: { mountLocation: 'not/absolute' },
      },
    });

    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { code: 'ValidationError', field: 'body.virtual_source.mountLocation' },
    });
  });

  it('removes api.json when it stops', async () => {
    await server?.close();
    server = undefined;

    await expect(stat(join(home, 'api.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
