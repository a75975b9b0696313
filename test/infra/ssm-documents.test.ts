import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkMountPointPlan, type HostPlan, mountPlan, unmountPlan } from '../../lib/core/host-plan';
import { planExport } from '../../lib/core/steps/plan-export';
import { raiseHostError } from '../../lib/core/steps/raise-host-error';
import { parseRsyncStats } from '../../lib/core/steps/record-snapshot';
import { DOCUMENT_KINDS, documentContent, PARAMETER_PATTERNS } from '../../lib/infra/ssm-documents';
import { operations } from '../../lib/plugins/directory-tree/operations';
import { seedVdb } from '../support/engine-fixtures';
import { FakeEngine } from '../support/fake-engine';
import { runDocumentScript } from '../support/run-document-script';
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
      operations.linked.preSnapshot(staged('localhost'), { resync: false }),
      operations.linked.preSnapshot(staged('src.example.com', ['*.tmp', 'cache/', '/logs/**']), { resync: true }),
      ...(await exportPlans()),
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

  it.each(['/srv/data', 'snap@src.example.com:/srv/data', 'backup_1@10.0.0.7:/srv/data'])(
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
  ])('copy source rejects %j', (value) => {
    expect(matches(PARAMETER_PATTERNS.copySource, value)).toBe(false);
  });

  it.each(['', '*.tmp', '*.tmp,cache/,/logs/**', 'a?b'])('excludes accept %j', (value) => {
    expect(matches(PARAMETER_PATTERNS.excludes, value)).toBe(true);
  });

  it.each(["it's", 'a"b', 'a;b', '$(id)', '`id`', 'a\nb', 'a b', ',a', 'a,', 'a,,b'])('excludes reject %j', (value) => {
    expect(matches(PARAMETER_PATTERNS.excludes, value)).toBe(false);
  });

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

describe.runIf(isRoot)('Snapflow document scripts, run with sh', () => {
  let dir: string;
  const at = (...parts: string[]) => join(dir, ...parts);
  const mounted = (path: string) =>
    readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[1] === path);
  const errorLine = (result: { StandardErrorContent: string }) =>
    result.StandardErrorContent.split('\n').find((line) => line.startsWith('snapflow-error: '));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'snapflow-doc-'));
    mkdirSync(at('dataset'));
    writeFileSync(at('dataset', 'file'), 'data');
  });

  afterEach(() => {
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((path) => path.startsWith(`${dir}/`))
      .reverse();
    for (const path of mounts) execFileSync('umount', ['-l', path]);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('check-mount-point', () => {
    it('passes for an absent path and for an empty directory', () => {
      mkdirSync(at('empty'));

      expect(runDocumentScript('check-mount-point', { MountPath: at('absent') }).ResponseCode).toBe(0);
      expect(runDocumentScript('check-mount-point', { MountPath: at('empty') }).ResponseCode).toBe(0);
    });

    it('reports MountPointNotEmptyError for a directory with entries, which raiseHostError names by field', async () => {
      const result = runDocumentScript('check-mount-point', { MountPath: at('dataset') });

      expect(result.ResponseCode).toBe(1);
      expect(errorLine(result)).toBe(
        `snapflow-error: MountPointNotEmptyError: MountPath ${at('dataset')} is not empty`,
      );
      await expect(
        raiseHostError({
          document: 'check-mount-point',
          hostId: 'local',
          invocation: { Status: 'Failed', ...result },
          fields: { MountPath: 'virtualSource.mountLocation' },
        }),
      ).rejects.toMatchObject({
        name: 'MountPointNotEmptyError',
        field: 'virtualSource.mountLocation',
        message: `virtualSource.mountLocation ${at('dataset')} is not empty (host local)`,
      });
    });

    it('reports MountPointBusyError when something is mounted there, even an empty tree', () => {
      mkdirSync(at('empty'));
      mkdirSync(at('target'));
      execFileSync('mount', ['--bind', at('empty'), at('target')]);

      expect(errorLine(runDocumentScript('check-mount-point', { MountPath: at('target') }))).toMatch(
        /^snapflow-error: MountPointBusyError: MountPath .* already has a filesystem mounted on it$/,
      );
    });

    it('reports ParameterRejectedError for a file and for a symbolic link', () => {
      symlinkSync(at('dataset'), at('link'));

      expect(errorLine(runDocumentScript('check-mount-point', { MountPath: at('dataset', 'file') }))).toMatch(
        /ParameterRejectedError: MountPath .* exists and is not a directory$/,
      );
      expect(errorLine(runDocumentScript('check-mount-point', { MountPath: at('link') }))).toMatch(
        /ParameterRejectedError: MountPath .* is a symbolic link/,
      );
    });
  });

  describe('mount', () => {
    const mount = (MountPath: string, Access = 'rw', Source = at('dataset')) =>
      runDocumentScript('mount', { ExportKind: 'bind', Source, MountPath, Access });

    it('creates the mount point and bind-mounts the dataset, and succeeds again when repeated', () => {
      expect(mount(at('mnt', 'data'))).toMatchObject({ ResponseCode: 0, StandardErrorContent: '' });
      expect(readFileSync(at('mnt', 'data', 'file'), 'utf8')).toBe('data');
      expect(mount(at('mnt', 'data')).ResponseCode).toBe(0);
      writeFileSync(at('mnt', 'data', 'new'), 'rw');
    });

    it('mounts read-only when asked, and gives a repeated mount the access asked for', () => {
      expect(mount(at('ro'), 'ro').ResponseCode).toBe(0);
      expect(() => writeFileSync(at('ro', 'new'), 'x')).toThrow(/EROFS/);

      expect(mount(at('ro'), 'rw').ResponseCode).toBe(0);
      writeFileSync(at('ro', 'new'), 'x');
    });

    it('refuses a mount point where another tree is mounted', () => {
      mkdirSync(at('other'));
      expect(mount(at('target'), 'rw', at('other')).ResponseCode).toBe(0);

      expect(errorLine(mount(at('target')))).toMatch(
        /MountPointBusyError: MountPath .* already has another filesystem/,
      );
    });

    it('refuses a mount point that is not empty, mounting nothing', () => {
      mkdirSync(at('full'));
      writeFileSync(at('full', 'mine'), 'keep');

      expect(errorLine(mount(at('full')))).toBe(
        `snapflow-error: MountPointNotEmptyError: MountPath ${at('full')} is not empty`,
      );
      expect(mounted(at('full'))).toBe(false);
    });

    it('refuses a source that is not a directory', () => {
      expect(errorLine(mount(at('target'), 'rw', at('missing')))).toMatch(
        /ParameterRejectedError: Source .* is not a directory/,
      );
    });
  });

  describe('unmount', () => {
    it('unmounts, and succeeds when nothing is mounted or the path is absent', () => {
      mkdirSync(at('target'));
      execFileSync('mount', ['--bind', at('dataset'), at('target')]);

      expect(runDocumentScript('unmount', { MountPath: at('target') }).ResponseCode).toBe(0);
      expect(mounted(at('target'))).toBe(false);
      expect(runDocumentScript('unmount', { MountPath: at('target') }).ResponseCode).toBe(0);
      expect(runDocumentScript('unmount', { MountPath: at('absent') }).ResponseCode).toBe(0);
    });

    it('removes the mount point once unmounted when asked, but only an empty one', () => {
      mkdirSync(at('target'));
      execFileSync('mount', ['--bind', at('dataset'), at('target')]);
      mkdirSync(at('kept'));
      writeFileSync(at('kept', 'mine'), 'keep');

      expect(runDocumentScript('unmount', { MountPath: at('target'), RemoveMountPoint: 'true' }).ResponseCode).toBe(0);
      expect(existsSync(at('target'))).toBe(false);
      expect(readFileSync(at('dataset', 'file'), 'utf8')).toBe('data');
      expect(runDocumentScript('unmount', { MountPath: at('target'), RemoveMountPoint: 'true' }).ResponseCode).toBe(0);
      const kept = runDocumentScript('unmount', { MountPath: at('kept'), RemoveMountPoint: 'true' });
      expect(kept.ResponseCode).toBe(1);
      expect(kept.StandardErrorContent).toMatch(/Directory not empty/);
      expect(readFileSync(at('kept', 'mine'), 'utf8')).toBe('keep');
    });

    it('reports MountPointBusyError while a process holds the mount', async () => {
      mkdirSync(at('target'));
      execFileSync('mount', ['--bind', at('dataset'), at('target')]);
      const holder = spawn('sleep', ['60'], { cwd: at('target'), stdio: 'ignore' });
      try {
        const result = runDocumentScript('unmount', { MountPath: at('target') });

        expect(errorLine(result)).toMatch(/^snapflow-error: MountPointBusyError: MountPath .* is still in use: .*busy/);
        expect(mounted(at('target'))).toBe(true);
      } finally {
        holder.kill('SIGKILL');
        await new Promise((resolve) => holder.once('exit', resolve));
      }
    });
  });

  describe('copy', () => {
    const copy = (parameters: Record<string, string>) =>
      runDocumentScript('copy', { Source: at('source'), Destination: at('mnt'), ...parameters });

    beforeEach(() => {
      mkdirSync(at('source', 'sub'), { recursive: true });
      mkdirSync(at('source', 'cache'));
      writeFileSync(at('source', 'a.txt'), 'aaaa');
      writeFileSync(at('source', 'sub', 'b.tmp'), 'bb');
      writeFileSync(at('source', 'cache', 'c'), 'c');
      mkdirSync(at('mnt'));
      execFileSync('mount', ['--bind', at('dataset'), at('mnt')]);
    });

    it('copies the contents to the mount root, honours excludes, propagates deletions and reports stats', () => {
      const result = copy({ Excludes: '*.tmp,cache/' });

      expect(result).toMatchObject({ ResponseCode: 0, StandardErrorContent: '' });
      expect(
        execFileSync('find', ['.', '-mindepth', '1'], { cwd: at('dataset'), encoding: 'utf8' })
          .split('\n')
          .sort(),
      ).toEqual(['', './a.txt', './sub']);
      expect(parseRsyncStats(result.StandardOutputContent)).toEqual({ filesTransferred: 1, bytesTransferred: 4 });
    });

    it('finds a change that kept size and time only on resync', () => {
      expect(copy({}).ResponseCode).toBe(0);
      const mtime = new Date('2026-01-01T00:00:00Z');
      writeFileSync(at('source', 'a.txt'), 'AAAA');
      utimesSync(at('source', 'a.txt'), mtime, mtime);
      utimesSync(at('dataset', 'a.txt'), mtime, mtime);

      expect(parseRsyncStats(copy({ Resync: 'false' }).StandardOutputContent).filesTransferred).toBe(0);
      expect(parseRsyncStats(copy({ Resync: 'true' }).StandardOutputContent).filesTransferred).toBe(1);
      expect(readFileSync(at('dataset', 'a.txt'), 'utf8')).toBe('AAAA');
    });

    it('reports MountPointMissingError when the destination is not mounted, copying nothing', () => {
      mkdirSync(at('plain'));

      const result = copy({ Destination: at('plain') });

      expect(errorLine(result)).toMatch(/^snapflow-error: MountPointMissingError: Destination .* is not a mount point/);
      expect(execFileSync('ls', ['-A', at('plain')], { encoding: 'utf8' })).toBe('');
    });

    it('reports CopyFailedError with rsync exit code and complaint when the source is missing', () => {
      const result = copy({ Source: at('missing') });

      const lines = result.StandardErrorContent.trimEnd().split('\n');
      expect(lines.at(-1)).toBe(
        `snapflow-error: CopyFailedError: rsync from ${at('missing')} failed with exit code 23`,
      );
      expect(lines.slice(0, -1).join('\n')).toMatch(/rsync: .*No such file or directory/);
    });
  });

  describe('export', () => {
    const exportTo = (Destination: string, Source = at('snapshot')) =>
      runDocumentScript('export', { Source, Destination });
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

    it('copies the mounted snapshot into a new directory, exactly, and reports what it transferred', () => {
      const result = exportTo(at('out', 'copy'));

      expect(result).toMatchObject({ ResponseCode: 0, StandardErrorContent: '' });
      expect(tree(at('out', 'copy'))).toEqual(tree(at('dataset')));
      expect(readlinkSync(at('out', 'copy', 'link'))).toBe('sub/b');
      expect(parseRsyncStats(result.StandardOutputContent)).toEqual({ filesTransferred: 2, bytesTransferred: 6 });
    });

    it('transfers only what changed on a second export, deleting what the snapshot lacks', () => {
      mkdirSync(at('out'));
      writeFileSync(at('out', 'stray'), 'not in the snapshot');
      expect(exportTo(at('out')).ResponseCode).toBe(0);
      execFileSync('umount', [at('snapshot')]);
      writeFileSync(at('dataset', 'file'), 'DATA, changed');
      execFileSync('mount', ['--bind', '-o', 'ro', at('dataset'), at('snapshot')]);

      const second = exportTo(at('out'));

      expect(parseRsyncStats(second.StandardOutputContent)).toEqual({ filesTransferred: 1, bytesTransferred: 13 });
      expect(tree(at('out'))).toEqual(tree(at('dataset')));
    });

    it('reports MountPointMissingError when the snapshot is not mounted, creating nothing', () => {
      mkdirSync(at('plain'));

      const result = exportTo(at('out'), at('plain'));

      expect(errorLine(result)).toMatch(/^snapflow-error: MountPointMissingError: Source .* is not a mount point/);
      expect(existsSync(at('out'))).toBe(false);
    });

    it('refuses a destination that is a mount point, a file or a symbolic link', () => {
      mkdirSync(at('mounted'));
      execFileSync('mount', ['--bind', at('dataset'), at('mounted')]);
      symlinkSync(at('dataset'), at('link'));

      expect(errorLine(exportTo(at('mounted')))).toMatch(
        /MountPointBusyError: Destination .* has a filesystem mounted/,
      );
      expect(errorLine(exportTo(at('dataset', 'file')))).toMatch(
        /ParameterRejectedError: Destination .* not a directory/,
      );
      expect(errorLine(exportTo(at('link')))).toMatch(/ParameterRejectedError: Destination .* is a symbolic link/);
    });
  });
});
