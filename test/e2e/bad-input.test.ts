import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeJobError } from '../../lib/api/describe-job-error';
import type { HostRunner } from '../../lib/local/host-runner';
import { leftovers, linkOneFileSource } from '../support/e2e-checks';
import { type LocalSession, startLocalSession } from '../support/local-session';

/**
 * Bad input to link and provision ends in a named error whose message names the field at fault and
 * whose action says what to do, and leaves nothing behind: no dSource, VDB or snapshot record, no
 * storage in the pool, no mount.
 */
describe('bad input to link and provision', () => {
  /** While set, the host's `mount` refuses to bind: a mount that fails after creating its mount point. */
  let failBinds = false;
  let shims: string;
  const wrapHostRunner = (runner: HostRunner): HostRunner => ({
    start: (script) =>
      runner.start(
        failBinds
          ? { ...script, environment: { ...script.environment, PATH: `${shims}:${script.environment.PATH}` } }
          : script,
      ),
  });
  let session: LocalSession;
  let environmentId: string;
  let sourceConfigId: string;
  let snapshotId: string;
  let otherSourceConfigId: string;
  let mnt: string;

  beforeAll(async () => {
    session = await startLocalSession({ wrapHostRunner });
    environmentId = session.local.environment.id;
    mnt = join(session.work, 'mnt');
    shims = join(session.work, 'shims');
    await mkdir(shims);
    const mount = execFileSync('sh', ['-c', 'command -v mount'], { encoding: 'utf8' }).trim();
    await writeFile(
      join(shims, 'mount'),
      `#!/bin/sh\ncase " $* " in *" --bind "*) echo "mount: refused by the test" >&2; exit 32 ;; esac\nexec ${mount} "$@"\n`,
    );
    await chmod(join(shims, 'mount'), 0o755);
    await mkdir(join(session.work, 'elsewhere'));
    await symlink(join(session.work, 'elsewhere'), join(mnt, 'link'));
    ({ sourceConfigId, otherSourceConfigId, snapshotId } = await linkOneFileSource(session));
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

  /** Everything a failed workflow could leave behind, and the directory it must not empty. */
  const leftBehind = async () => ({
    ...(await leftovers(session, ['shims'])),
    notEmpty: await readdir(join(mnt, 'not-empty')),
  });

  type WorkflowInput = Parameters<LocalSession['run']>[1];

  /** Cases whose host `mount` refuses to bind, after the script created the mount point's directories. */
  const bindFails = new Set(['a mount that fails after creating its directories']);

  /** Per case: workflow, what is bad, input, error name, what the message says (made late: paths are the session's), action. */
  const cases: [string, string, () => WorkflowInput, string, string | (() => string), RegExp][] = [
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
      'link',
      'a copy from localhost whose source config is on another host',
      () => ({ ...linkInput({ mountLocation: join(mnt, 's4') }), sourceConfigId: otherSourceConfigId }),
      'ValidationError',
      'linkedSource.sourceAddress localhost copies on the staging host local',
      /Give the address of host i-0123456789abcdef0/,
    ],
    [
      'link',
      'a mount location that leads through a symbolic link',
      () => linkInput({ mountLocation: join(mnt, 'link', 'staging') }),
      'ParameterRejectedError',
      () =>
        `linkedSource.mountLocation ${join(mnt, 'link', 'staging')} leads through a symbolic link to ${join(session.work, 'elsewhere', 'staging')}`,
      /Correct the value/,
    ],
    [
      'link',
      'a mount that fails after creating its directories',
      () => linkInput({ mountLocation: join(mnt, 'new-parent', 'deeper', 'staging') }),
      'HostCommandFailedError',
      'The mount command on host local ended Failed with exit code 32',
      /fix the cause on the host/,
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
    [
      'provision',
      'a mount location that reaches a system directory through a symbolic link',
      () => provisionInput({ mountLocation: '/var/run/snapflow-bad-input' }),
      'ParameterRejectedError',
      'virtualSource.mountLocation /var/run/snapflow-bad-input leads through a symbolic link to /run/snapflow-bad-input',
      /Correct the value/,
    ],
    [
      'provision',
      'a mount that fails after creating its directories',
      () => provisionInput({ mountLocation: join(mnt, 'new-parent', 'deeper', 'vdb') }),
      'HostCommandFailedError',
      'The mount command on host local ended Failed with exit code 32',
      /fix the cause on the host/,
    ],
  ];

  it.each(cases)(
    '%s with %s fails with a clear error and leaves nothing behind',
    async (workflow, description, input, name, message, action) => {
      const before = await leftBehind();
      failBinds = bindFails.has(description);
      const run = await session.run(workflow, input()).finally(() => {
        failBinds = false;
      });
      expect(run.status).toBe('FAILED');
      const error = describeJobError(run.error ?? { name: '', cause: '' });
      expect(error.code).toBe(name);
      expect(error.message).toContain(typeof message === 'string' ? message : message());
      expect(error.message).not.toContain('undo failed too');
      expect(error.action).toMatch(action);
      expect(await leftBehind()).toEqual(before);
    },
  );
});
