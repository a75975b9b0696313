import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSession, startLocalSession } from '../support/local-session';

/**
 * Bad input to link and provision ends in a named error whose message names the field at fault and
 * whose action says what to do, and leaves nothing behind: no dSource, VDB or snapshot record, no
 * storage in the pool, no mount.
 */
describe('bad input to link and provision', () => {
  let session: LocalSession;
  let environmentId: string;
  let sourceConfigId: string;
  let snapshotId: string;
  let mnt: string;

  beforeAll(async () => {
    session = await startLocalSession();
    environmentId = session.local.environment.id;
    mnt = join(session.work, 'mnt');
    const source = join(session.work, 'source');
    await mkdir(source);
    await writeFile(join(source, 'file'), 'data\n');
    sourceConfigId = (await session.local.engine.createSourceConfig({ environmentId, name: 'src', path: source })).id;
    const linked = await session.run('link', linkInput({ mountLocation: join(mnt, 'staging') }));
    expect(linked.status).toBe('SUCCEEDED');
    snapshotId = (linked.output as { snapshotId: string }).snapshotId;
    await mkdir(join(mnt, 'not-empty'));
    await writeFile(join(mnt, 'not-empty', 'precious'), 'must survive\n');
  });

  afterAll(async () => {
    await session?.close();
  });

  function linkInput(linkedSource: Record<string, string | string[]>, extra: Record<string, string | boolean> = {}) {
    return {
      name: 'linked',
      sourceConfigId,
      stagingEnvironmentId: environmentId,
      linkedSource: { sourceAddress: 'localhost', username: 'root', ...linkedSource },
      ...extra,
    };
  }

  function provisionInput(virtualSource: Record<string, string>, extra: Record<string, string> = {}) {
    return { name: 'vdb', snapshotId, environmentId, virtualSource, ...extra };
  }

  /** Everything a failed workflow could leave behind. */
  async function leftovers() {
    const engine = session.local.engine;
    const pool = join(session.work, 'home', 'engine', 'pool');
    return {
      dsources: (await engine.listDSources()).map((d) => d.id),
      vdbs: (await engine.listVdbs()).map((v) => v.id),
      snapshots: (await engine.listSnapshots()).map((s) => s.id),
      datasetStorage: (await readdir(join(pool, 'datasets'))).sort(),
      snapshotStorage: (await readdir(join(pool, 'snapshots'))).sort(),
      mounts: await session.mounts(),
      notEmpty: await readdir(join(mnt, 'not-empty')),
    };
  }

  type WorkflowInput = Parameters<LocalSession['run']>[1];

  const cases: [string, string, () => WorkflowInput, string, string, RegExp][] = [
    [
      'link',
      'a missing mount location',
      () => linkInput({}),
      'ValidationError',
      'input.linkedSource.mountLocation is missing',
      /Add input\.linkedSource\.mountLocation/,
    ],
    [
      'link',
      'a relative mount location',
      () => linkInput({ mountLocation: 'mnt/staging' }),
      'ValidationError',
      'input.linkedSource.mountLocation is not an absolute path',
      /absolute path/,
    ],
    [
      'link',
      "a '..' mount location",
      () => linkInput({ mountLocation: `${mnt}/../../etc` }),
      'ValidationError',
      "input.linkedSource.mountLocation contains a '.' or '..' segment",
      /absolute path/,
    ],
    [
      'link',
      'a system directory as mount location',
      () => linkInput({ mountLocation: '/etc/snapflow' }),
      'ValidationError',
      'linkedSource.mountLocation is inside the system directory /etc',
      /directory of its own/,
    ],
    [
      'link',
      'an unknown field',
      () => linkInput({ mountLocation: join(mnt, 's2') }, { force: true }),
      'ValidationError',
      'input.force is not a known field',
      /Remove it/,
    ],
    [
      'link',
      'an unknown source config',
      () => ({ ...linkInput({ mountLocation: join(mnt, 's3') }), sourceConfigId: 'sc-00000000000000ff' }),
      'NotFoundError',
      'sourceConfigId sc-00000000000000ff does not exist',
      /existing record/,
    ],
    [
      'link',
      'a mount location that is not empty',
      () => linkInput({ mountLocation: join(mnt, 'not-empty') }),
      'MountPointNotEmptyError',
      'linkedSource.mountLocation',
      /empty/i,
    ],
    [
      'provision',
      'a missing mount location',
      () => provisionInput({}),
      'ValidationError',
      'input.virtualSource.mountLocation is missing',
      /Add input\.virtualSource\.mountLocation/,
    ],
    [
      'provision',
      'a relative mount location',
      () => provisionInput({ mountLocation: 'vdb' }),
      'ValidationError',
      'input.virtualSource.mountLocation is not an absolute path',
      /absolute path/,
    ],
    [
      'provision',
      "a '..' mount location",
      () => provisionInput({ mountLocation: `${mnt}/../vdb` }),
      'ValidationError',
      "input.virtualSource.mountLocation contains a '.' or '..' segment",
      /absolute path/,
    ],
    [
      'provision',
      'an unknown snapshot',
      () => provisionInput({ mountLocation: join(mnt, 'v1') }, { snapshotId: 'snap-00000000000000ff' }),
      'NotFoundError',
      'snapshotId snap-00000000000000ff does not exist',
      /snapshot/i,
    ],
    [
      'provision',
      'a mount location that is not empty',
      () => provisionInput({ mountLocation: join(mnt, 'not-empty') }),
      'MountPointNotEmptyError',
      'virtualSource.mountLocation',
      /empty/i,
    ],
  ];

  it.each(cases)(
    '%s with %s fails with a clear error and leaves nothing behind',
    async (workflow, _, input, name, message, action) => {
      const before = await leftovers();
      const run = await session.run(workflow, input());
      expect(run.status).toBe('FAILED');
      expect(run.error?.name).toBe(name);
      const cause = JSON.parse(run.error?.cause ?? '{}') as { errorMessage?: string; action?: string };
      const text = cause.errorMessage ?? run.error?.cause ?? '';
      expect(text).toContain(message);
      expect(run.error?.cause, run.error?.cause).toMatch(action);
      expect(await leftovers()).toEqual(before);
    },
  );
});
