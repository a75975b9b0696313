import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkMountPointPlan, type HostPlan, mountPlan, unmountPlan } from '../../lib/core/host-plan';
import { MOUNT_PATH_PATTERN, mountLocationProblem, SYSTEM_DIRECTORIES } from '../../lib/core/paths';
import { createDSource } from '../../lib/core/steps/create-dsource';
import { planExport } from '../../lib/core/steps/plan-export';
import { raiseHostError } from '../../lib/core/steps/raise-host-error';
import { parseRsyncStats } from '../../lib/core/steps/record-snapshot';
import { DOCUMENT_KINDS, documentContent, PARAMETER_PATTERNS } from '../../lib/infra/ssm-documents';
import type { HostRunner } from '../../lib/local/host-runner';
import { operations } from '../../lib/plugins/directory-tree/operations';
import { linkRequest, seedSource, seedVdb } from '../support/engine-fixtures';
import { FakeEngine } from '../support/fake-engine';
import { DocumentHost, runDocumentScript } from '../support/run-document-script';
import { snapflowTemplate } from '../support/snapflow-template';

const BAD_PATHS = [
  '/mnt/../etc',
  '/..',
  "/mnt/it's",
  '/mnt/"x"',
  '/mnt/a;reboot',
  '/mnt/$(reboot)',
  '/mnt/`id`',
  '/mnt/a\nb',
  'mnt/x',
  '',
  '/mnt/a b',
];

describe('Snapflow SSM documents', () => {
  const { template } = snapflowTemplate();

  it('are Command documents, one per kind, with the content the scripts are tested with', () => {
    const documents = Object.values(template.findResources('AWS::SSM::Document'));

    expect(documents.map((document) => document.Metadata.SnapflowDocument).sort()).toEqual([...DOCUMENT_KINDS].sort());
    for (const document of documents) {
      expect(document.Properties.DocumentType).toBe('Command');
      expect(document.Properties.Content).toEqual(documentContent(document.Metadata.SnapflowDocument));
    }
  });

  it('give every parameter an allowedPattern and every step a timeout', () => {
    for (const kind of DOCUMENT_KINDS) {
      const content = documentContent(kind);
      for (const [name, parameter] of Object.entries(content.parameters)) {
        expect(parameter.allowedPattern, `${kind} ${name}`).toMatch(/^\^.*\$$/);
      }
      expect(content.mainSteps[0].inputs.timeoutSeconds).toBe(['copy', 'export'].includes(kind) ? 3600 : 60);
    }
  });

  it('accept every parameter the plugin and the steps plan, and require nothing more', async () => {
    const environment = {
      id: 'env-0000000000000001',
      name: 'staging',
      hostId: 'i-0abc',
      scratchPath: '/var/tmp/snapflow',
      createdAt: '',
    };
    const at = { hostId: 'i-0abc', mountPath: '/mnt/snapflow/data' };
    const exported = {
      datasetId: 'ds-0000000000000001',
      kind: 'bind' as const,
      source: '/var/lib/snapflow/ds-1',
      readOnly: true,
    };
    const staged = (sourceAddress: string, excludes?: string[]) => ({
      parameters: { sourceAddress, username: 'snap', mountLocation: at.mountPath, ...(excludes ? { excludes } : {}) },
      stagingEnvironment: environment,
      sourceConfig: {
        id: 'sc-0000000000000001',
        environmentId: environment.id,
        name: 'data',
        path: '/srv/data',
        createdAt: '',
      },
    });
    const plans: HostPlan[] = [
      checkMountPointPlan(at),
      mountPlan(at, exported),
      unmountPlan(at),
      unmountPlan(at, { only: exported, removeMountPoint: true }),
      operations.linked.preSnapshot(staged('localhost'), { resync: false }),
      operations.linked.preSnapshot(staged('src.example.com', ['*.tmp', 'cache/', '/logs/**']), { resync: true }),
      operations.linked.preSnapshot(staged('[2001:db8::7]', ['-leading-dash']), { resync: true }),
      ...(await exportPlans()),
      (await linkUndoPlan()).unmount,
    ];

    for (const plan of plans) {
      const { parameters } = documentContent(plan.document);
      for (const [name, [value]] of Object.entries(plan.parameters)) {
        expect(parameters[name], `${plan.document} ${name}`).toBeDefined();
        expect(value, `${plan.document} ${name}`).toMatch(new RegExp(parameters[name]?.allowedPattern ?? '^$'));
      }
      const required = Object.entries(parameters).filter(([, parameter]) => parameter.default === undefined);
      for (const [name] of required) expect(plan.parameters, `${plan.document} ${name}`).toHaveProperty(name);
    }
  });
});

/** The link's undo unmount, as its CreateDSource step plans it. */
async function linkUndoPlan() {
  const engine = new FakeEngine();
  return createDSource(linkRequest(await seedSource(engine)), { engine });
}

/** The host commands of an export, as the export workflow's plan step makes them. */
async function exportPlans(): Promise<HostPlan[]> {
  const engine = new FakeEngine();
  const { vdb, targetHost } = await seedVdb(engine);
  const plan = await planExport(
    { request: { vdbId: vdb.id, environmentId: targetHost.id, targetPath: '/srv/exports/dev' }, executionName: 'x-1' },
    { engine },
  );
  return [plan.mount, plan.export, plan.unmount];
}

describe('PARAMETER_PATTERNS', () => {
  const matches = (pattern: string, value: string) => new RegExp(pattern).test(value);

  it.each(['/mnt/snapflow/data', '/a/.hidden', '/a/b..c', '/srv/data_1/x-y@z+1,2=3%4'])('path accepts %j', (value) => {
    expect(matches(PARAMETER_PATTERNS.path, value)).toBe(true);
  });

  it.each(BAD_PATHS)('path rejects %j', (value) => {
    expect(matches(PARAMETER_PATTERNS.path, value)).toBe(false);
  });

  it.each(['/mnt/snapflow/data', '/var/tmp/snapflow/v2p-x', '/etcetera', '/var/library/x', '/usr2', '/srv/-x'])(
    'mount path accepts %j',
    (value) => {
      expect(matches(PARAMETER_PATTERNS.mountPath, value)).toBe(true);
    },
  );

  it.each([
    ...BAD_PATHS,
    '/',
    '//',
    '/etc',
    '/etc/',
    '//etc/x',
    '/proc/1',
    '/boot',
    '/var/lib/x',
    '/var//lib/x',
    '/var/log',
    '/usr/local/x',
    '/root/.ssh',
    '-o/mnt',
    `/mnt/${'n'.repeat(256)}`,
  ])('mount path rejects %j', (value) => {
    expect(matches(PARAMETER_PATTERNS.mountPath, value)).toBe(false);
  });

  it('agrees with mountLocationProblem, the TypeScript check, on every system directory and around it', () => {
    const values = [
      ...BAD_PATHS,
      '/',
      '///',
      ...SYSTEM_DIRECTORIES.flatMap((dir) => [dir, `${dir}/`, `${dir}/x/y`, `/${dir}`, `${dir}x`, `${dir}.d/x`]),
      '/var/lib',
      '/var//log/x',
      '/var/tmp/x',
      '/mnt/a/../etc',
      `/mnt/${'n'.repeat(255)}`,
      `/mnt/${'n'.repeat(256)}`,
      `/${'a/'.repeat(2047)}b`,
    ];
    for (const value of values) {
      expect(matches(MOUNT_PATH_PATTERN, value), JSON.stringify(value)).toBe(mountLocationProblem(value) === undefined);
    }
  });

  it.each(['/srv/data', 'snap@src.example.com:/srv/data', 'backup_1@10.0.0.7:/srv/data', 'snap@[fe80::1]:/srv'])(
    'copy source accepts %j',
    (value) => {
      expect(matches(PARAMETER_PATTERNS.copySource, value)).toBe(true);
    },
  );

  it.each([
    ...BAD_PATHS,
    'snap@src:relative/path',
    'snap@src:/srv/../etc',
    "snap@src:/srv/it's",
    'sn;ap@src:/srv',
    '$(id)@src:/srv',
    'snap@-oProxyCommand=x:/srv',
    'snap@src:/srv\n',
    'Snap@src:/srv',
    // rsync's daemon mode (plain TCP, no SSH), and an IPv6 address without brackets.
    'snap@src::/srv',
    'snap@src::module/srv',
    'snap@fe80::1:/srv',
    '-e@src:/srv',
  ])('copy source rejects %j', (value) => {
    expect(matches(PARAMETER_PATTERNS.copySource, value)).toBe(false);
  });

  it.each(['', '*.tmp', '*.tmp,cache/,/logs/**', 'a?b', '-x'])('excludes accept %j', (value) => {
    expect(matches(PARAMETER_PATTERNS.excludes, value)).toBe(true);
  });

  it.each(["it's", 'a"b', 'a;b', '$(id)', '`id`', 'a\nb', 'a b', ',a', 'a,', 'a,,b', '- x', '+ x', '!', '#x'])(
    'excludes reject %j',
    (value) => {
      expect(matches(PARAMETER_PATTERNS.excludes, value)).toBe(false);
    },
  );

  it('allow only the literal choices for flags (Resync, RemoveMountPoint), Access and ExportKind', () => {
    expect(['true', 'false', 'True', 'true;id', 'true\n'].map((v) => matches(PARAMETER_PATTERNS.flag, v))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    expect(['ro', 'rw', 'r', 'rw,exec'].map((v) => matches(PARAMETER_PATTERNS.access, v))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(['bind', 'nfs', 'bind;id'].map((v) => matches(PARAMETER_PATTERNS.exportKind, v))).toEqual([
      true,
      false,
      false,
    ]);
  });
});

const isRoot = process.getuid?.() === 0;

/** The last `snapflow-error:` line of a script's stderr, as raiseHostError reads it. */
const errorLine = (result: { StandardErrorContent: string }) =>
  result.StandardErrorContent.split('\n').findLast((line) => line.startsWith('snapflow-error: '));

/** What a system command is on this machine, for shims that stand in for it. */
const systemCommand = (name: string) => execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();

describe.runIf(isRoot)('Snapflow document scripts, run by the host agent', () => {
  let dir: string;
  const at = (...parts: string[]) => join(dir, ...parts);
  const mounted = (path: string) =>
    readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[1] === path);

  /** Puts `<dir>/bin` first on the scripts' PATH (and any variables given), so that shims stand in for commands. */
  const withShims =
    (variables: Record<string, string> = {}) =>
    (runner: HostRunner): HostRunner => ({
      start: (script) =>
        runner.start({
          ...script,
          environment: { ...script.environment, ...variables, PATH: `${at('bin')}:${script.environment.PATH}` },
        }),
    });
  /** A shell script in `<dir>/bin` named after the command it stands in for. */
  const shim = (name: string, body: string) => {
    mkdirSync(at('bin'), { recursive: true });
    writeFileSync(at('bin', name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'snapflow-doc-'));
    mkdirSync(at('dataset'));
    writeFileSync(at('dataset', 'file'), 'data');
  });

  afterEach(() => {
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => (line.split(' ')[1] ?? '').replace(/\\040/g, ' '))
      .filter((path) => path.startsWith(`${dir}/`))
      .reverse();
    for (const path of mounts) execFileSync('umount', ['-l', path]);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('check-mount-point', () => {
    it('passes for an absent path and for an empty directory, creating nothing', async () => {
      mkdirSync(at('empty'));

      expect((await runDocumentScript('check-mount-point', { MountPath: at('absent', 'deeper') })).Status).toBe(
        'Success',
      );
      expect((await runDocumentScript('check-mount-point', { MountPath: at('empty') })).Status).toBe('Success');
      expect(existsSync(at('absent'))).toBe(false);
    });

    it('reports MountPointNotEmptyError for a directory with entries, which raiseHostError names by field', async () => {
      const result = await runDocumentScript('check-mount-point', { MountPath: at('dataset') });

      expect(result).toMatchObject({ Status: 'Failed', ResponseCode: 1 });
      expect(errorLine(result)).toBe(
        `snapflow-error: MountPointNotEmptyError: MountPath ${at('dataset')} is not empty`,
      );
      await expect(
        raiseHostError({
          document: 'check-mount-point',
          hostId: 'local',
          invocation: result,
          fields: { MountPath: 'virtualSource.mountLocation' },
        }),
      ).rejects.toMatchObject({
        name: 'MountPointNotEmptyError',
        field: 'virtualSource.mountLocation',
        message: `virtualSource.mountLocation ${at('dataset')} is not empty (host local)`,
      });
    });

    it('reports MountPointBusyError when something is mounted there, even an empty tree', async () => {
      mkdirSync(at('empty'));
      mkdirSync(at('target'));
      execFileSync('mount', ['--bind', at('empty'), at('target')]);

      expect(errorLine(await runDocumentScript('check-mount-point', { MountPath: at('target') }))).toMatch(
        /^snapflow-error: MountPointBusyError: MountPath .* already has a filesystem mounted on it$/,
      );
    });

    it('reports ParameterRejectedError for a file, a symbolic link, and a path through one', async () => {
      symlinkSync(at('dataset'), at('link'));

      expect(errorLine(await runDocumentScript('check-mount-point', { MountPath: at('dataset', 'file') }))).toMatch(
        /ParameterRejectedError: MountPath .* exists and is not a directory$/,
      );
      expect(errorLine(await runDocumentScript('check-mount-point', { MountPath: at('link') }))).toMatch(
        /ParameterRejectedError: MountPath .* is a symbolic link/,
      );
      expect(errorLine(await runDocumentScript('check-mount-point', { MountPath: at('link', 'vdb') }))).toBe(
        `snapflow-error: ParameterRejectedError: MountPath ${at('link', 'vdb')} leads through a symbolic link to ${at('dataset', 'vdb')}; give a path without symbolic links`,
      );
    });
  });

  describe('every document that mounts, unmounts or writes', () => {
    const unmount = (path: string): [Parameters<typeof runDocumentScript>[0], Record<string, string>] => [
      'unmount',
      { MountPath: path, RemoveMountPoint: 'true' },
    ];
    const cases: [string, (path: string) => [Parameters<typeof runDocumentScript>[0], Record<string, string>]][] = [
      ['check-mount-point', (path) => ['check-mount-point', { MountPath: path }]],
      ['mount', (path) => ['mount', { ExportKind: 'bind', Source: at('dataset'), MountPath: path, Access: 'rw' }]],
      ['copy', (path) => ['copy', { Source: at('dataset'), Destination: path }]],
      ['export Destination', (path) => ['export', { Source: at('snapshot'), Destination: path }]],
    ];

    beforeEach(() => {
      mkdirSync(at('snapshot'));
      execFileSync('mount', ['--bind', '-o', 'ro', at('dataset'), at('snapshot')]);
    });

    it.each(cases)(
      '%s refuses a path that reaches a system directory through a symbolic link, touching nothing',
      async (_, command) => {
        // /var/run is /run on Debian; a link of the test's own to /etc makes the same point anywhere.
        symlinkSync('/etc', at('etc-link'));
        for (const path of [
          at('etc-link', 'snapflow-test'),
          ...(existsSync('/var/run') ? ['/var/run/snapflow-test'] : []),
        ]) {
          const result = await runDocumentScript(...command(path));

          expect(result.Status, path).toBe('Failed');
          expect(errorLine(result), path).toMatch(
            /^snapflow-error: ParameterRejectedError: (MountPath|Destination) .* leads through a symbolic link to \/(etc|run)\/snapflow-test; give a path without symbolic links$/,
          );
          expect(existsSync('/etc/snapflow-test') || existsSync('/run/snapflow-test'), path).toBe(false);
        }
      },
    );

    it('unmount leaves a path that leads through a symbolic link alone, and succeeds: Snapflow mounts nothing there', async () => {
      symlinkSync('/etc', at('etc-link'));
      mkdirSync(at('real'));
      symlinkSync(at('real'), at('real-link'));
      execFileSync('mount', ['--bind', at('dataset'), at('real')]);

      const system = await runDocumentScript(...unmount(at('etc-link', 'snapflow-test')));
      const linked = await runDocumentScript(...unmount(at('real-link')));

      expect(system).toMatchObject({
        Status: 'Success',
        StandardOutputContent: expect.stringContaining('nothing unmounted'),
      });
      expect(linked.Status).toBe('Success');
      expect(mounted(at('real'))).toBe(true);
    });

    it.each([...cases, ['unmount', unmount] as const])(
      '%s is refused / and system directories by its pattern, before anything runs',
      async (_, command) => {
        const host = await DocumentHost.start();
        try {
          for (const path of ['/', '/etc', '/proc/self', '/var/lib/snapflow', '/usr/local/x', '/root']) {
            await expect(host.send(...command(path)), path).rejects.toMatchObject({
              name: 'Ssm.InvalidParametersException',
            });
          }
        } finally {
          await host.close();
        }
      },
    );
  });

  describe('mount', () => {
    const mount = (MountPath: string, Access = 'rw', Source = at('dataset'), options = {}) =>
      runDocumentScript('mount', { ExportKind: 'bind', Source, MountPath, Access }, options);

    it('creates the mount point and bind-mounts the dataset, and succeeds again when repeated', async () => {
      expect(await mount(at('mnt', 'data'))).toMatchObject({ Status: 'Success', StandardErrorContent: '' });
      expect(readFileSync(at('mnt', 'data', 'file'), 'utf8')).toBe('data');
      expect((await mount(at('mnt', 'data'))).Status).toBe('Success');
      writeFileSync(at('mnt', 'data', 'new'), 'rw');
    });

    it('mounts read-only when asked, and gives a repeated mount the access asked for', async () => {
      expect((await mount(at('ro'), 'ro')).Status).toBe('Success');
      expect(() => writeFileSync(at('ro', 'new'), 'x')).toThrow(/EROFS/);

      expect((await mount(at('ro'), 'rw')).Status).toBe('Success');
      writeFileSync(at('ro', 'new'), 'x');
    });

    it('refuses a mount point where another tree is mounted', async () => {
      mkdirSync(at('other'));
      expect((await mount(at('target'), 'rw', at('other'))).Status).toBe('Success');

      expect(errorLine(await mount(at('target')))).toMatch(
        /MountPointBusyError: MountPath .* already has another filesystem/,
      );
    });

    it('refuses a mount point that is not empty, mounting nothing', async () => {
      mkdirSync(at('full'));
      writeFileSync(at('full', 'mine'), 'keep');

      expect(errorLine(await mount(at('full')))).toBe(
        `snapflow-error: MountPointNotEmptyError: MountPath ${at('full')} is not empty`,
      );
      expect(mounted(at('full'))).toBe(false);
      expect(readdirSync(at('full'))).toEqual(['mine']);
    });

    it('refuses a source that is not a directory, creating nothing', async () => {
      expect(errorLine(await mount(at('new', 'target'), 'rw', at('missing')))).toMatch(
        /ParameterRejectedError: Source .* is not a directory/,
      );
      expect(existsSync(at('new'))).toBe(false);
    });

    it('removes the directories it created when the bind fails, and only those', async () => {
      shim(
        'mount',
        `case " $* " in *" --bind "*) echo "mount: refused by the test" >&2; exit 32 ;; esac\nexec ${systemCommand('mount')} "$@"`,
      );
      mkdirSync(at('kept'));

      const result = await mount(at('kept', 'new', 'deeper', 'vdb'), 'rw', at('dataset'), { wrapRunner: withShims() });

      expect(result.Status).toBe('Failed');
      expect(result.StandardErrorContent).toContain('mount: refused by the test');
      expect(readdirSync(at('kept'))).toEqual([]);
    });

    it('undoes its bind and removes what it created when the access cannot be set', async () => {
      shim(
        'mount',
        `case "$*" in *remount*) echo "mount: no remount today" >&2; exit 32 ;; esac\nexec ${systemCommand('mount')} "$@"`,
      );

      const result = await mount(at('new', 'vdb'), 'ro', at('dataset'), { wrapRunner: withShims() });

      expect(errorLine(result)).toMatch(
        /^snapflow-error: HostCommandFailedError: MountPath .* could not be mounted ro: mount: no remount today$/,
      );
      expect(mounted(at('new', 'vdb'))).toBe(false);
      expect(existsSync(at('new'))).toBe(false);
    });

    it('undoes its bind and removes what it created when it is cancelled half-way', async () => {
      shim(
        'mount',
        `case "$*" in *remount*) touch ${at('remounting')}; sleep 30 ;; esac\nexec ${systemCommand('mount')} "$@"`,
      );
      const host = await DocumentHost.start({ wrapRunner: withShims() });
      try {
        const commandId = await host.send('mount', {
          ExportKind: 'bind',
          Source: at('dataset'),
          MountPath: at('new', 'vdb'),
          Access: 'ro',
        });
        await expect.poll(() => existsSync(at('remounting'))).toBe(true);
        expect(mounted(at('new', 'vdb'))).toBe(true);

        await host.agent.cancelCommand({ CommandId: commandId });

        expect((await host.result(commandId)).Status).toBe('Cancelled');
        expect(mounted(at('new', 'vdb'))).toBe(false);
        expect(existsSync(at('new'))).toBe(false);
      } finally {
        await host.close();
      }
    });

    it('reads no value as an option: mount points whose names start with -', async () => {
      for (const name of ['-o', '--bind', '-n']) {
        expect((await mount(at(name))).Status, name).toBe('Success');
        expect(readFileSync(at(name, 'file'), 'utf8')).toBe('data');
        expect((await runDocumentScript('unmount', { MountPath: at(name), RemoveMountPoint: 'true' })).Status).toBe(
          'Success',
        );
        expect(existsSync(at(name))).toBe(false);
      }
    });
  });

  describe('unmount', () => {
    it('unmounts, and succeeds when nothing is mounted or the path is absent', async () => {
      mkdirSync(at('target'));
      execFileSync('mount', ['--bind', at('dataset'), at('target')]);

      expect((await runDocumentScript('unmount', { MountPath: at('target') })).Status).toBe('Success');
      expect(mounted(at('target'))).toBe(false);
      expect((await runDocumentScript('unmount', { MountPath: at('target') })).Status).toBe('Success');
      expect((await runDocumentScript('unmount', { MountPath: at('absent') })).Status).toBe('Success');
    });

    it('with a Source, unmounts a bind of it and leaves another filesystem mounted', async () => {
      mkdirSync(at('other'));
      mkdirSync(at('ours'));
      mkdirSync(at('theirs'));
      execFileSync('mount', ['--bind', at('dataset'), at('ours')]);
      execFileSync('mount', ['--bind', at('other'), at('theirs')]);

      const ours = await runDocumentScript('unmount', { MountPath: at('ours'), Source: at('dataset') });
      const theirs = await runDocumentScript('unmount', {
        MountPath: at('theirs'),
        Source: at('dataset'),
        RemoveMountPoint: 'true',
      });

      expect(ours.Status).toBe('Success');
      expect(mounted(at('ours'))).toBe(false);
      expect(theirs).toMatchObject({
        Status: 'Success',
        StandardOutputContent: expect.stringContaining('stays mounted'),
      });
      expect(mounted(at('theirs'))).toBe(true);
    });

    it('removes the mount point once unmounted when asked, but only an empty one', async () => {
      mkdirSync(at('target'));
      execFileSync('mount', ['--bind', at('dataset'), at('target')]);
      mkdirSync(at('kept'));
      writeFileSync(at('kept', 'mine'), 'keep');

      expect((await runDocumentScript('unmount', { MountPath: at('target'), RemoveMountPoint: 'true' })).Status).toBe(
        'Success',
      );
      expect(existsSync(at('target'))).toBe(false);
      expect(readFileSync(at('dataset', 'file'), 'utf8')).toBe('data');
      expect((await runDocumentScript('unmount', { MountPath: at('target'), RemoveMountPoint: 'true' })).Status).toBe(
        'Success',
      );
      const kept = await runDocumentScript('unmount', { MountPath: at('kept'), RemoveMountPoint: 'true' });
      expect(kept.Status).toBe('Failed');
      expect(kept.StandardErrorContent).toMatch(/Directory not empty/);
      expect(readFileSync(at('kept', 'mine'), 'utf8')).toBe('keep');
    });

    it('reports MountPointBusyError while a process holds the mount', async () => {
      mkdirSync(at('target'));
      execFileSync('mount', ['--bind', at('dataset'), at('target')]);
      const holder = spawn('sleep', ['60'], { cwd: at('target'), stdio: 'ignore' });
      try {
        const result = await runDocumentScript('unmount', { MountPath: at('target') });

        expect(errorLine(result)).toMatch(/^snapflow-error: MountPointBusyError: MountPath .* is still in use: .*busy/);
        expect(mounted(at('target'))).toBe(true);
      } finally {
        holder.kill('SIGKILL');
        await new Promise((resolve) => holder.once('exit', resolve));
      }
    });
  });

  describe('copy', () => {
    const copy = (parameters: Record<string, string>, options = {}) =>
      runDocumentScript('copy', { Source: at('source'), Destination: at('mnt'), ...parameters }, options);

    beforeEach(() => {
      mkdirSync(at('source', 'sub'), { recursive: true });
      mkdirSync(at('source', 'cache'));
      writeFileSync(at('source', 'a.txt'), 'aaaa');
      writeFileSync(at('source', 'sub', 'b.tmp'), 'bb');
      writeFileSync(at('source', 'cache', 'c'), 'c');
      writeFileSync(at('source', '-x'), 'dash');
      mkdirSync(at('mnt'));
      execFileSync('mount', ['--bind', at('dataset'), at('mnt')]);
    });

    it('copies the contents to the mount root, honours excludes, propagates deletions and reports stats', async () => {
      const result = await copy({ Excludes: '*.tmp,cache/,-x' });

      expect(result).toMatchObject({ Status: 'Success', StandardErrorContent: '' });
      expect(
        execFileSync('find', ['.', '-mindepth', '1'], { cwd: at('dataset'), encoding: 'utf8' })
          .split('\n')
          .sort(),
      ).toEqual(['', './a.txt', './sub']);
      expect(parseRsyncStats(result.StandardOutputContent)).toEqual({ filesTransferred: 1, bytesTransferred: 4 });
    });

    it('finds a change that kept size and time only on resync', async () => {
      expect((await copy({})).Status).toBe('Success');
      const mtime = new Date('2026-01-01T00:00:00Z');
      writeFileSync(at('source', 'a.txt'), 'AAAA');
      utimesSync(at('source', 'a.txt'), mtime, mtime);
      utimesSync(at('dataset', 'a.txt'), mtime, mtime);

      expect(parseRsyncStats((await copy({ Resync: 'false' })).StandardOutputContent).filesTransferred).toBe(0);
      expect(parseRsyncStats((await copy({ Resync: 'true' })).StandardOutputContent).filesTransferred).toBe(1);
      expect(readFileSync(at('dataset', 'a.txt'), 'utf8')).toBe('AAAA');
    });

    it('writes a file changed in place into the file itself, only the blocks that differ', async () => {
      const block = 128 * 1024;
      writeFileSync(at('source', 'pages'), Buffer.alloc(8 * block, 1));
      // rsync's quick check compares whole seconds: the rewrite below must look newer.
      const past = new Date('2026-01-01T00:00:00Z');
      utimesSync(at('source', 'pages'), past, past);
      expect((await copy({})).Status).toBe('Success');
      const inode = statSync(at('dataset', 'pages')).ino;
      const changed = Buffer.alloc(8 * block, 1);
      changed.fill(2, 3 * block, 4 * block);
      writeFileSync(at('source', 'pages'), changed);

      const result = await copy({});

      expect(result.Status).toBe('Success');
      expect(readFileSync(at('dataset', 'pages')).equals(changed)).toBe(true);
      expect(statSync(at('dataset', 'pages')).ino).toBe(inode);
      // One 128 KiB block changed, and only it was sent.
      expect(result.StandardOutputContent).toMatch(/^Literal data: 131,072 bytes$/m);
    });

    it('writes no data through a hard link that the source has broken since the last copy', async () => {
      writeFileSync(at('source', 'one'), 'shared');
      linkSync(at('source', 'one'), at('source', 'two'));
      expect((await copy({})).Status).toBe('Success');
      expect(statSync(at('dataset', 'two')).ino).toBe(statSync(at('dataset', 'one')).ino);
      rmSync(at('source', 'two'));
      writeFileSync(at('source', 'two'), 'apart, longer');

      expect((await copy({})).Status).toBe('Success');

      expect(readFileSync(at('dataset', 'one'), 'utf8')).toBe('shared');
      expect(readFileSync(at('dataset', 'two'), 'utf8')).toBe('apart, longer');
      expect(readdirSync(at('dataset')).filter((name) => name.startsWith('.snapflow-'))).toEqual([]);
      linkSync(at('source', 'one'), at('source', 'three'));

      expect((await copy({})).Status).toBe('Success');

      expect(statSync(at('dataset', 'three')).ino).toBe(statSync(at('dataset', 'one')).ino);
    });

    it('reports MountPointMissingError when the destination is not mounted, copying nothing', async () => {
      mkdirSync(at('plain'));

      const result = await copy({ Destination: at('plain') });

      expect(errorLine(result)).toMatch(/^snapflow-error: MountPointMissingError: Destination .* is not a mount point/);
      expect(readdirSync(at('plain'))).toEqual([]);
    });

    it('reports CopyFailedError with rsync exit code and complaint when the source is missing', async () => {
      const result = await copy({ Source: at('missing') });

      const lines = result.StandardErrorContent.trimEnd().split('\n');
      expect(lines.at(-1)).toBe(
        `snapflow-error: CopyFailedError: rsync from ${at('missing')} failed with exit code 23`,
      );
      expect(lines.slice(0, -1).join('\n')).toMatch(/rsync: .*No such file or directory/);
    });

    it('keeps its error line within what SSM keeps of stderr: long paths into a read-only destination', async () => {
      // A destination of about 3 KiB and sixty names of 240 characters: rsync complains once per file.
      const longDestination = at('d', ...Array.from({ length: 12 }, (_, i) => `${i}`.padEnd(240, 'd')));
      mkdirSync(longDestination, { recursive: true });
      execFileSync('mount', ['--bind', at('dataset'), longDestination]);
      execFileSync('mount', ['-o', 'remount,bind,ro', longDestination]);
      const longSource = at('s', ...Array.from({ length: 4 }, (_, i) => `${i}`.padEnd(240, 's')));
      mkdirSync(longSource, { recursive: true });
      for (let i = 0; i < 60; i++) writeFileSync(join(longSource, `${i}-`.padEnd(240, 'f')), `${i}`);
      // rsync's own complaints are far longer than the 8,000 characters SSM keeps of stderr.
      const complaints = spawnRsync(longSource, longDestination);
      expect(complaints.length).toBeGreaterThan(8000);

      const result = await copy({ Source: longSource, Destination: longDestination });

      expect(result.Status).toBe('Failed');
      expect(result.StandardErrorContent.length).toBeLessThanOrEqual(8000);
      expect(result.StandardErrorContent).toContain('Read-only file system');
      expect(errorLine(result)).toMatch(
        /^snapflow-error: CopyFailedError: rsync from \/.{100,}\.\.\..* failed with exit code 23$/,
      );
      await expect(
        raiseHostError({ document: 'copy', hostId: 'local', invocation: result, fields: {} }),
      ).rejects.toMatchObject({
        name: 'CopyFailedError',
        message: expect.stringContaining('failed with exit code 23'),
      });
    });

    it('pulls from user@host:path over ssh with the given key and known_hosts only, host key checked', async () => {
      shim('ssh', `printf '%s\\n' "$@" > ${at('ssh-arguments')}\nexit 255`);

      const result = await copy(
        { Source: 'root@source.example:/srv/data', SshIdentityFile: '/keys/id', SshKnownHostsFile: '/keys/known' },
        { wrapRunner: withShims() },
      );

      const words = readFileSync(at('ssh-arguments'), 'utf8').trimEnd().split('\n');
      const options = words.flatMap((word, index) => (words[index - 1] === '-o' ? [word] : []));
      expect(options).toEqual(
        expect.arrayContaining([
          'BatchMode=yes',
          'StrictHostKeyChecking=yes',
          'IdentitiesOnly=yes',
          'UserKnownHostsFile=/keys/known',
          'GlobalKnownHostsFile=/dev/null',
          'ConnectTimeout=10',
        ]),
      );
      expect(words[words.indexOf('-i') + 1]).toBe('/keys/id');
      expect(words).toContain('source.example');
      expect(errorLine(result)).toMatch(
        /^snapflow-error: SourceUnreachableError: the copy from root@source\.example:\/srv\/data lost or could not open its SSH connection \(rsync exit code (255|12)\)$/,
      );
    });

    it('reports a refused host key as CopyFailedError, which the workflow does not retry', async () => {
      shim('ssh', 'echo "Host key verification failed." >&2\nexit 255');

      const result = await copy({ Source: 'root@source.example:/srv/data' }, { wrapRunner: withShims() });

      expect(errorLine(result)).toMatch(/^snapflow-error: CopyFailedError: SSH for the copy from .* was refused/);
    });

    it('reports StorageFullError when the dataset fills up', async () => {
      mkdirSync(at('small'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'snapflow-test', at('small')]);
      writeFileSync(at('source', 'big'), Buffer.alloc(1024 * 1024, 1));

      const result = await copy({ Destination: at('small') });

      expect(errorLine(result)).toMatch(
        /^snapflow-error: StorageFullError: the dataset mounted at .*small is full: rsync from .* stopped with exit code \d+$/,
      );
      await expect(
        raiseHostError({ document: 'copy', hostId: 'local', invocation: result, fields: {} }),
      ).rejects.toMatchObject({ name: 'StorageFullError', action: expect.stringContaining('no snapshot was taken') });
    });

    it('removes its temporary files when it is cancelled half-way', async () => {
      mkdirSync(at('tmp'));
      shim('rsync', `touch ${at('copying')}\nsleep 30`);
      const host = await DocumentHost.start({ wrapRunner: withShims({ TMPDIR: at('tmp') }) });
      try {
        const commandId = await host.send('copy', { Source: at('source'), Destination: at('mnt') });
        await expect.poll(() => existsSync(at('copying'))).toBe(true);
        expect(readdirSync(at('tmp'))).toHaveLength(2);

        await host.agent.cancelCommand({ CommandId: commandId });

        expect((await host.result(commandId)).Status).toBe('Cancelled');
        expect(readdirSync(at('tmp'))).toEqual([]);
      } finally {
        await host.close();
      }
    });

    it('removes its temporary files when it fails', async () => {
      mkdirSync(at('tmp'));

      const result = await copy({ Source: at('missing') }, { wrapRunner: withShims({ TMPDIR: at('tmp') }) });

      expect(result.Status).toBe('Failed');
      expect(readdirSync(at('tmp'))).toEqual([]);
    });
  });

  describe('export', () => {
    const exportTo = (Destination: string, Source = at('snapshot'), options = {}) =>
      runDocumentScript('export', { Source, Destination }, options);
    const tree = (directory: string) =>
      execFileSync('find', ['.', '-mindepth', '1', '-printf', '%p %m %s\\n'], { cwd: directory, encoding: 'utf8' })
        .split('\n')
        .sort();

    beforeEach(() => {
      mkdirSync(at('dataset', 'sub'));
      writeFileSync(at('dataset', 'sub', 'b'), 'bb');
      symlinkSync('sub/b', at('dataset', 'link'));
      mkdirSync(at('snapshot'));
      execFileSync('mount', ['--bind', '-o', 'ro', at('dataset'), at('snapshot')]);
    });

    it('copies the mounted snapshot into a new directory, exactly, and reports what it transferred', async () => {
      const result = await exportTo(at('out', 'copy'));

      expect(result).toMatchObject({ Status: 'Success', StandardErrorContent: '' });
      expect(tree(at('out', 'copy'))).toEqual(tree(at('dataset')));
      expect(readlinkSync(at('out', 'copy', 'link'))).toBe('sub/b');
      expect(parseRsyncStats(result.StandardOutputContent)).toEqual({ filesTransferred: 2, bytesTransferred: 6 });
    });

    it('transfers only what changed on a second export, deleting what the snapshot lacks', async () => {
      mkdirSync(at('out'));
      writeFileSync(at('out', 'stray'), 'not in the snapshot');
      expect((await exportTo(at('out'))).Status).toBe('Success');
      execFileSync('umount', [at('snapshot')]);
      writeFileSync(at('dataset', 'file'), 'DATA, changed');
      execFileSync('mount', ['--bind', '-o', 'ro', at('dataset'), at('snapshot')]);

      const second = await exportTo(at('out'));

      expect(parseRsyncStats(second.StandardOutputContent)).toEqual({ filesTransferred: 1, bytesTransferred: 13 });
      expect(tree(at('out'))).toEqual(tree(at('dataset')));
    });

    it('reports MountPointMissingError when the snapshot is not mounted, creating nothing', async () => {
      mkdirSync(at('plain'));

      const result = await exportTo(at('out'), at('plain'));

      expect(errorLine(result)).toMatch(/^snapflow-error: MountPointMissingError: Source .* is not a mount point/);
      expect(existsSync(at('out'))).toBe(false);
    });

    it('removes the directories it created when the copy fails', async () => {
      shim('rsync', 'echo "rsync: refused by the test" >&2\nexit 11');

      const result = await exportTo(at('out', 'deeper', 'copy'), at('snapshot'), { wrapRunner: withShims() });

      expect(errorLine(result)).toBe(
        `snapflow-error: CopyFailedError: rsync to ${at('out', 'deeper', 'copy')} failed with exit code 11`,
      );
      expect(existsSync(at('out'))).toBe(false);
    });

    it('refuses a destination that is a mount point, a file or a symbolic link', async () => {
      mkdirSync(at('mounted'));
      execFileSync('mount', ['--bind', at('dataset'), at('mounted')]);
      symlinkSync(at('dataset'), at('link'));

      expect(errorLine(await exportTo(at('mounted')))).toMatch(
        /MountPointBusyError: Destination .* has a filesystem mounted/,
      );
      expect(errorLine(await exportTo(at('dataset', 'file')))).toMatch(
        /ParameterRejectedError: Destination .* not a directory/,
      );
      expect(errorLine(await exportTo(at('link')))).toMatch(
        /ParameterRejectedError: Destination .* is a symbolic link/,
      );
    });
  });
});

/** What rsync alone says on stderr when it copies `source` into `destination`. */
function spawnRsync(source: string, destination: string): string {
  try {
    execFileSync('rsync', ['--archive', '--', `${source}/`, `${destination}/`], { stdio: 'pipe', encoding: 'utf8' });
    return '';
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? '');
  }
}
