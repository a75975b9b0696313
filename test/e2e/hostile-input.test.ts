import { existsSync } from 'node:fs';
import { symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { describeJobError } from '../../lib/api/describe-job-error';
import { MOUNT_PATH_PATTERN, mountLocationProblem, UNIX_PATH_PATTERN, unixPathProblem } from '../../lib/core/paths';
import { validate } from '../../lib/core/validate';
import { DOCUMENT_KINDS, documentContent, PARAMETER_PATTERNS } from '../../lib/infra/ssm-documents';
import type { HostRunner } from '../../lib/local/host-runner';
import { linkedSourceDefinition } from '../../lib/plugins/directory-tree/schemas';
import { leftovers, linkOneFileSource } from '../support/e2e-checks';
import { type LocalSession, startLocalSession } from '../support/local-session';
import { DocumentHost } from '../support/run-document-script';

/** The host documents whose scripts a runner started, by the step directory the host agent runs them in. */
class RecordingHosts {
  readonly started: string[] = [];

  readonly wrap = (runner: HostRunner): HostRunner => ({
    start: (script) => {
      const step = basename(script.commandDirectory);
      this.started.push(DOCUMENT_KINDS.find((kind) => documentContent(kind).mainSteps[0].name === step) ?? step);
      return runner.start(script);
    },
  });
}

/** A workflow's input; hostile inputs are whatever JSON a caller may send. */
type Input = Parameters<LocalSession['run']>[1];

const LONG_PATH = `/mnt/${'a/'.repeat(2100)}x`;
const LONG_NAME = `/mnt/${'n'.repeat(256)}`;

/**
 * Hostile input, through the real local workflows: every value is refused with an error naming the
 * field, before any host command runs (or, for what only the host can see, by the host script before
 * it changes anything), and nothing is left behind: no record, storage, mount or directory.
 */
describe('hostile input to the workflows', () => {
  const hosts = new RecordingHosts();
  let session: LocalSession;
  let mnt: string;
  let environmentId: string;
  let sourceConfigId: string;
  let otherSourceConfigId: string;
  let snapshotId: string;
  let vdbId: string;

  beforeAll(async () => {
    session = await startLocalSession({ wrapHostRunner: hosts.wrap });
    mnt = join(session.work, 'mnt');
    environmentId = session.local.environment.id;
    ({ sourceConfigId, otherSourceConfigId, snapshotId } = await linkOneFileSource(session));
    const provisioned = await session.run('provision', provision({ mountLocation: join(mnt, 'vdb') }));
    expect(provisioned.status).toBe('SUCCEEDED');
    vdbId = (provisioned.output as { vdbId: string }).vdbId;
    await symlink('/etc', join(mnt, 'etc-link'));
  });

  afterAll(async () => {
    await session?.close();
  });

  beforeEach(() => {
    hosts.started.length = 0;
  });

  function link(linkedSource: Record<string, unknown>, extra: Record<string, unknown> = {}): Input {
    return {
      name: 'hostile',
      sourceConfigId,
      stagingEnvironmentId: environmentId,
      linkedSource: { sourceAddress: 'localhost', username: 'root', ...linkedSource },
      ...extra,
    } as Input;
  }

  function provision(virtualSource: Record<string, unknown>, extra: Record<string, unknown> = {}): Input {
    return { name: 'hostile', snapshotId, environmentId, virtualSource, ...extra } as Input;
  }

  /** What a failed workflow could leave behind; the directories inside the VDB are its data. */
  const leftBehind = () => leftovers(session, [join('mnt', 'vdb')]);

  /**
   * Per case: the workflow, what is hostile, the input, the error, the field its message names, and the
   * host documents that may run (none: refused before any host command).
   */
  type Case = [string, string, () => Input, string, string, string[]];
  const mountLocation = 'linkedSource.mountLocation';
  const vdbMountLocation = 'virtualSource.mountLocation';
  const linkMount =
    (value: string): (() => Input) =>
    () =>
      link({ mountLocation: value });
  const provisionMount =
    (value: string): (() => Input) =>
    () =>
      provision({ mountLocation: value });
  const exportTo =
    (targetPath: unknown): (() => Input) =>
    () =>
      ({ vdbId, environmentId, targetPath }) as Input;

  const cases: Case[] = [
    // Paths: traversal, shell metacharacters, control characters, encodings and lengths.
    ['link', 'a .. segment', () => link({ mountLocation: `${mnt}/../../etc/x` }), 'ValidationError', mountLocation, []],
    ['link', 'a . segment', () => link({ mountLocation: `${mnt}/./x` }), 'ValidationError', mountLocation, []],
    ['link', 'a ;', () => link({ mountLocation: `${mnt}/a;reboot` }), 'ValidationError', mountLocation, []],
    ['link', 'a |', () => link({ mountLocation: `${mnt}/a|id` }), 'ValidationError', mountLocation, []],
    ['link', 'a &', () => link({ mountLocation: `${mnt}/a&id` }), 'ValidationError', mountLocation, []],
    ['link', 'a $()', () => link({ mountLocation: `${mnt}/$(id)` }), 'ValidationError', mountLocation, []],
    ['link', 'backticks', () => link({ mountLocation: `${mnt}/\`id\`` }), 'ValidationError', mountLocation, []],
    ['link', 'a >', () => link({ mountLocation: `${mnt}/a>b` }), 'ValidationError', mountLocation, []],
    ['link', 'a *', () => link({ mountLocation: `${mnt}/*` }), 'ValidationError', mountLocation, []],
    ['link', 'a ?', () => link({ mountLocation: `${mnt}/a?` }), 'ValidationError', mountLocation, []],
    ['link', 'a single quote', () => link({ mountLocation: `${mnt}/it's` }), 'ValidationError', mountLocation, []],
    ['link', 'a double quote', () => link({ mountLocation: `${mnt}/"x"` }), 'ValidationError', mountLocation, []],
    ['link', 'a space', () => link({ mountLocation: `${mnt}/a b` }), 'ValidationError', mountLocation, []],
    ['link', 'a tab', () => link({ mountLocation: `${mnt}/a\tb` }), 'ValidationError', mountLocation, []],
    ['link', 'a newline', () => link({ mountLocation: `${mnt}/a\nreboot` }), 'ValidationError', mountLocation, []],
    ['link', 'a trailing newline', () => link({ mountLocation: `${mnt}/a\n` }), 'ValidationError', mountLocation, []],
    ['link', 'a NUL', () => link({ mountLocation: `${mnt}/a\u0000b` }), 'ValidationError', mountLocation, []],
    ['link', 'a lone surrogate', () => link({ mountLocation: `${mnt}/\ud800` }), 'ValidationError', mountLocation, []],
    [
      'link',
      'bytes that were not UTF-8',
      () => link({ mountLocation: `${mnt}/\ufffd` }),
      'ValidationError',
      mountLocation,
      [],
    ],
    [
      'link',
      'a non-ASCII letter',
      () => link({ mountLocation: `${mnt}/caf\u00e9` }),
      'ValidationError',
      mountLocation,
      [],
    ],
    ['link', 'a path over 4095 characters', linkMount(LONG_PATH), 'ValidationError', mountLocation, []],
    ['link', 'a name over 255 characters', linkMount(LONG_NAME), 'ValidationError', mountLocation, []],
    ['link', 'a leading -', linkMount('-rf'), 'ValidationError', mountLocation, []],
    ['link', 'a relative path', linkMount('mnt/x'), 'ValidationError', mountLocation, []],
    ['link', 'a ~ path', linkMount('~/x'), 'ValidationError', mountLocation, []],
    ['link', 'a number', () => link({ mountLocation: 7 }), 'ValidationError', mountLocation, []],
    // Mount locations outside the allowed roots or over system directories.
    ['link', 'the root directory', linkMount('/'), 'ValidationError', mountLocation, []],
    ['link', 'the root directory, doubled', linkMount('//'), 'ValidationError', mountLocation, []],
    ['link', '/etc', linkMount('/etc'), 'ValidationError', mountLocation, []],
    ['link', 'a path in /proc', linkMount('/proc/1/x'), 'ValidationError', mountLocation, []],
    ['link', 'a path in /var//lib', linkMount('/var//lib/x'), 'ValidationError', mountLocation, []],
    [
      'link',
      'a path through a symbolic link to /etc',
      () => link({ mountLocation: join(mnt, 'etc-link', 'snapflow-hostile') }),
      'ParameterRejectedError',
      mountLocation,
      // The sync's mount script refuses it before it creates or mounts anything; the undo's unmount
      // touches nothing there either.
      ['mount', 'unmount'],
    ],
    // The other linked-source fields.
    [
      'link',
      'a daemon-mode source address',
      () => link({ mountLocation: `${mnt}/s1`, sourceAddress: 'src:' }),
      'ValidationError',
      'linkedSource.sourceAddress',
      [],
    ],
    [
      'link',
      'an IPv6 address without brackets',
      () => link({ mountLocation: `${mnt}/s1`, sourceAddress: 'fe80::1' }),
      'ValidationError',
      'linkedSource.sourceAddress',
      [],
    ],
    [
      'link',
      'an option as source address',
      () => link({ mountLocation: `${mnt}/s1`, sourceAddress: '-oProxyCommand=id' }),
      'ValidationError',
      'linkedSource.sourceAddress',
      [],
    ],
    [
      'link',
      'an option as username',
      () => link({ mountLocation: `${mnt}/s1`, username: '-l' }),
      'ValidationError',
      'linkedSource.username',
      [],
    ],
    [
      'link',
      'a ; in the username',
      () => link({ mountLocation: `${mnt}/s1`, username: 'root;id' }),
      'ValidationError',
      'linkedSource.username',
      [],
    ],
    [
      'link',
      'a ; in an exclude',
      () => link({ mountLocation: `${mnt}/s1`, excludes: ['a;b'] }),
      'ValidationError',
      'linkedSource.excludes.0',
      [],
    ],
    [
      'link',
      'a newline in an exclude',
      () => link({ mountLocation: `${mnt}/s1`, excludes: ['a\n+ b'] }),
      'ValidationError',
      'linkedSource.excludes.0',
      [],
    ],
    [
      'link',
      'an include rule as exclude',
      () => link({ mountLocation: `${mnt}/s1`, excludes: ['+ secret'] }),
      'ValidationError',
      'linkedSource.excludes.0',
      [],
    ],
    [
      'link',
      'too many excludes',
      () => link({ mountLocation: `${mnt}/s1`, excludes: Array.from({ length: 65 }, (_, i) => `x${i}`) }),
      'ValidationError',
      'linkedSource.excludes',
      [],
    ],
    [
      'link',
      'an oversized exclude',
      () => link({ mountLocation: `${mnt}/s1`, excludes: ['x'.repeat(256)] }),
      'ValidationError',
      'linkedSource.excludes.0',
      [],
    ],
    [
      'link',
      'an unknown linked-source field',
      () => link({ mountLocation: `${mnt}/s1`, command: 'reboot' }),
      'ValidationError',
      'linkedSource.command',
      [],
    ],
    [
      'link',
      'an unknown field',
      () => link({ mountLocation: `${mnt}/s1` }, { script: 'id' }),
      'ValidationError',
      'input.script',
      [],
    ],
    [
      'link',
      'an oversized name',
      () => link({ mountLocation: `${mnt}/s1` }, { name: 'n'.repeat(129) }),
      'ValidationError',
      'input.name',
      [],
    ],
    [
      'link',
      'a control character in the name',
      () => link({ mountLocation: `${mnt}/s1` }, { name: 'a\u001bb' }),
      'ValidationError',
      'input.name',
      [],
    ],
    [
      'link',
      'a path as an id',
      () => link({ mountLocation: `${mnt}/s1` }, { sourceConfigId: 'sc-../../etc' }),
      'ValidationError',
      'input.sourceConfigId',
      [],
    ],
    [
      'link',
      'a local copy of a source on another host',
      () => link({ mountLocation: `${mnt}/s1` }, { sourceConfigId: otherSourceConfigId }),
      'ValidationError',
      'linkedSource.sourceAddress',
      [],
    ],
    // Provision.
    ['provision', 'a ;', () => provision({ mountLocation: `${mnt}/v;x` }), 'ValidationError', vdbMountLocation, []],
    [
      'provision',
      'a newline',
      () => provision({ mountLocation: `${mnt}/v\nx` }),
      'ValidationError',
      vdbMountLocation,
      [],
    ],
    ['provision', '/boot', provisionMount('/boot'), 'ValidationError', vdbMountLocation, []],
    ['provision', 'a path in /var/lib', provisionMount('/var/lib/snapflow/x'), 'ValidationError', vdbMountLocation, []],
    ['provision', 'a path in /root', provisionMount('/root/x'), 'ValidationError', vdbMountLocation, []],
    ['provision', 'a leading -', provisionMount('--bind'), 'ValidationError', vdbMountLocation, []],
    [
      'provision',
      '/var/run/x, which is /run/x',
      provisionMount('/var/run/snapflow-hostile'),
      'ParameterRejectedError',
      vdbMountLocation,
      // Only the read-only check runs, and refuses it before anything is created.
      ['check-mount-point'],
    ],
    [
      'provision',
      'a path through a symbolic link to /etc',
      () => provision({ mountLocation: join(mnt, 'etc-link', 'snapflow-hostile') }),
      'ParameterRejectedError',
      vdbMountLocation,
      ['check-mount-point'],
    ],
    [
      'provision',
      'an unknown virtual-source field',
      () => provision({ mountLocation: `${mnt}/v1`, options: 'exec' }),
      'ValidationError',
      'virtualSource.options',
      [],
    ],
    // Export (V2P): rsync --delete into the target path.
    ['export', 'the root directory', exportTo('/'), 'ValidationError', 'targetPath', []],
    ['export', 'a path in /usr', exportTo('/usr/local/x'), 'ValidationError', 'targetPath', []],
    ['export', 'a $()', exportTo('/srv/$(id)'), 'ValidationError', 'targetPath', []],
    ['export', 'a leading -', exportTo('-x'), 'ValidationError', 'targetPath', []],
    [
      'export',
      'the VDB mount location',
      () => ({ vdbId, environmentId, targetPath: join(mnt, 'vdb', 'x') }),
      'ValidationError',
      'targetPath',
      [],
    ],
    [
      'export',
      'a path through a symbolic link to /etc',
      () => ({ vdbId, environmentId, targetPath: join(mnt, 'etc-link', 'snapflow-hostile') }),
      'ParameterRejectedError',
      'targetPath',
      // The snapshot is mounted in scratch space; the export script refuses before it copies.
      ['mount', 'export', 'unmount'],
    ],
    // Sync.
    [
      'sync',
      'an oversized trigger id',
      () => ({
        dsourceId: vdbId,
        snapshotParameters: { resync: false },
        trigger: { kind: 'api', id: 'x'.repeat(257) },
      }),
      'ValidationError',
      'input.trigger.id',
      [],
    ],
    [
      'sync',
      'an unknown trigger kind',
      () => ({ dsourceId: vdbId, snapshotParameters: { resync: false }, trigger: { kind: 'shell' } }),
      'ValidationError',
      'input.trigger.kind',
      [],
    ],
  ];

  it('has at least forty cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)(
    '%s refuses %s, naming the field, and leaves nothing behind',
    async (workflow, _, input, name, field, allowed) => {
      const before = await leftBehind();

      const given = input();
      // Inputs are made when the case runs: the session's paths do not exist before.
      expect(JSON.stringify(given)).not.toContain('undefined');

      const run = await session.run(workflow, given);

      expect(run.status).toBe('FAILED');
      const error = describeJobError(run.error ?? { name: '', cause: '' });
      expect(error.code).toBe(name);
      expect(error.message).toContain(field);
      expect(error.message).not.toContain('undo failed too');
      expect(error.action.length).toBeGreaterThan(10);
      // No host command ran, or only those the case allows, which refused before changing anything.
      expect(hosts.started.filter((document) => !allowed.includes(document))).toEqual([]);
      expect(await leftBehind()).toEqual(before);
      expect(existsSync('/etc/snapflow-hostile') || existsSync('/run/snapflow-hostile')).toBe(false);
    },
  );
});

/**
 * What the TypeScript checks refuse, the documents' patterns refuse on their own: SSM (here the host
 * agent) refuses the command before any script runs, however the value got there.
 */
describe('the documents refuse hostile values themselves', () => {
  const hostilePaths = [
    '/',
    '//',
    '/etc',
    '/etc/snapflow',
    '/proc/1',
    '/var/lib/x',
    '/var//log/x',
    '/usr/local',
    '/root/.ssh',
    '/boot/grub',
    '/mnt/../etc',
    '/mnt/./x',
    '/mnt/a;reboot',
    '/mnt/$(id)',
    '/mnt/`id`',
    '/mnt/a|b',
    '/mnt/a&b',
    '/mnt/a>b',
    '/mnt/*',
    "/mnt/it's",
    '/mnt/a b',
    '/mnt/a\nb',
    '/mnt/a\u0000b',
    '/mnt/\ud800',
    '/mnt/caf\u00e9',
    '-rf',
    '--bind',
    'mnt/x',
    '',
    LONG_PATH,
    LONG_NAME,
  ];
  const parameters: [string, string, (value: string) => Record<string, string>][] = [
    ['check-mount-point', 'MountPath', (value) => ({ MountPath: value })],
    ['mount', 'MountPath', (value) => ({ ExportKind: 'bind', Source: '/srv/x', MountPath: value, Access: 'rw' })],
    ['unmount', 'MountPath', (value) => ({ MountPath: value })],
    ['copy', 'Destination', (value) => ({ Source: '/srv/x', Destination: value })],
    ['export', 'Destination', (value) => ({ Source: '/var/tmp/snapflow/v2p-x', Destination: value })],
    ['export', 'Source', (value) => ({ Source: value, Destination: '/srv/exports/x' })],
  ];

  it.each(parameters)('%s refuses every hostile %s before any script runs', async (kind, _, parametersOf) => {
    const hosts = new RecordingHosts();
    const host = await DocumentHost.start({ wrapRunner: hosts.wrap });
    try {
      for (const value of hostilePaths) {
        await expect(
          host.send(kind as (typeof DOCUMENT_KINDS)[number], parametersOf(value)),
          JSON.stringify(value),
        ).rejects.toMatchObject({
          name: 'Ssm.InvalidParametersException',
        });
      }
      expect(hosts.started).toEqual([]);
    } finally {
      await host.close();
    }
  });

  it('refuses hostile copy sources, excludes and flags before any script runs', async () => {
    const hosts = new RecordingHosts();
    const host = await DocumentHost.start({ wrapRunner: hosts.wrap });
    const copy = (overrides: Record<string, string>) =>
      host.send('copy', { Source: '/srv/x', Destination: '/mnt/x', ...overrides });
    try {
      for (const Source of [
        'snap@src::/srv',
        'snap@src::module',
        'snap@fe80::1:/srv',
        '-e@src:/srv',
        'snap@-oProxyCommand=id:/srv',
        '$(id)@src:/srv',
        'snap@src:/srv;id',
      ]) {
        await expect(copy({ Source }), Source).rejects.toMatchObject({ name: 'Ssm.InvalidParametersException' });
      }
      for (const Excludes of ['a;b', 'a\nb', '+ x', '- x', '!', '$(id)', 'a b']) {
        await expect(copy({ Excludes }), Excludes).rejects.toMatchObject({ name: 'Ssm.InvalidParametersException' });
      }
      for (const Resync of ['yes', 'true;id', '-r']) {
        await expect(copy({ Resync }), Resync).rejects.toMatchObject({ name: 'Ssm.InvalidParametersException' });
      }
      expect(hosts.started).toEqual([]);
    } finally {
      await host.close();
    }
  });

  it('agrees with the TypeScript checks: a path passes the SSM pattern exactly when the workflow would pass it', () => {
    for (const value of hostilePaths) {
      const label = JSON.stringify(value.slice(0, 60));
      expect(new RegExp(MOUNT_PATH_PATTERN).test(value), label).toBe(mountLocationProblem(value) === undefined);
      expect(new RegExp(UNIX_PATH_PATTERN).test(value), label).toBe(unixPathProblem(value) === undefined);
      expect(new RegExp(PARAMETER_PATTERNS.mountPath).test(value), label).toBe(false);
    }
    for (const value of ['/mnt/snapflow/x', '/var/tmp/snapflow/v2p-1', '/srv/exports/a-b_c.d']) {
      expect(new RegExp(MOUNT_PATH_PATTERN).test(value)).toBe(true);
      expect(mountLocationProblem(value)).toBeUndefined();
    }
  });

  it('agrees with the linked-source schema on the copy source: user@host passes exactly when the schema takes both', () => {
    const copySource = new RegExp(PARAMETER_PATTERNS.copySource);
    const addresses = ['src.example.com', '10.0.0.7', '[2001:db8::7]', 'src:', 'fe80::1', '-oX', 'a;b', '[::1]', 'a b'];
    const users = ['snap', 'backup_1', '-l', 'Root', 'a;b', ''];
    for (const sourceAddress of addresses) {
      for (const username of users) {
        let schemaTakes = true;
        try {
          validate(linkedSourceDefinition, { sourceAddress, username, mountLocation: '/mnt/x' }, 'linkedSource');
        } catch {
          schemaTakes = false;
        }
        expect(copySource.test(`${username}@${sourceAddress}:/srv/x`), `${username}@${sourceAddress}`).toBe(
          schemaTakes,
        );
      }
    }
  });
});
