import { describe, expect, it } from 'vitest';
import { ErrorNames } from '../../../lib/core/errors';
import {
  BtrfsBackend,
  btrfsCommands,
  MIN_POOL_SIZE_BYTES,
  parseFilesystemDu,
} from '../../../lib/engine/backends/btrfs-backend';
import {
  type BtrfsSupport,
  chooseBackend,
  createStorageBackend,
  type StorageBackendChoice,
} from '../../../lib/engine/backends/create-storage-backend';
import { copyTreeCommand } from '../../../lib/engine/backends/dir-backend';
import { commandEnvironment, commandSearchPath, runCommand } from '../../../lib/engine/backends/run-command';

const capable: BtrfsSupport = {
  isRoot: true,
  mkfsBtrfs: '/usr/sbin/mkfs.btrfs',
  btrfsTool: '/usr/bin/btrfs',
  kernelHasBtrfs: true,
};

describe('btrfsCommands', () => {
  it('builds every command as a program and an argument list, with no shell involved', () => {
    expect(btrfsCommands.format('/e/pool.img.partial')).toEqual({
      file: 'mkfs.btrfs',
      args: ['-q', '/e/pool.img.partial'],
    });
    expect(btrfsCommands.mount('/e/pool.img', '/e/pool')).toEqual({
      file: 'mount',
      args: ['-t', 'btrfs', '-o', 'loop', '/e/pool.img', '/e/pool'],
    });
    expect(btrfsCommands.unmount('/e/pool')).toEqual({ file: 'umount', args: ['/e/pool'] });
    expect(btrfsCommands.createSubvolume('/e/pool/datasets/ds-1')).toEqual({
      file: 'btrfs',
      args: ['subvolume', 'create', '/e/pool/datasets/ds-1'],
    });
    expect(btrfsCommands.snapshot('/e/pool/datasets/ds-1', '/e/pool/snapshots/snap-1', true)).toEqual({
      file: 'btrfs',
      args: ['subvolume', 'snapshot', '-r', '/e/pool/datasets/ds-1', '/e/pool/snapshots/snap-1'],
    });
    expect(btrfsCommands.snapshot('/e/pool/snapshots/snap-1', '/e/pool/datasets/vdb-1', false)).toEqual({
      file: 'btrfs',
      args: ['subvolume', 'snapshot', '/e/pool/snapshots/snap-1', '/e/pool/datasets/vdb-1'],
    });
    expect(btrfsCommands.deleteSubvolume('/e/pool/datasets/ds-1')).toEqual({
      file: 'btrfs',
      args: ['subvolume', 'delete', '/e/pool/datasets/ds-1'],
    });
  });

  it('measures with a sync first, then one summary line per path in bytes', () => {
    expect(btrfsCommands.syncFilesystem('/e/pool')).toEqual({ file: 'btrfs', args: ['filesystem', 'sync', '/e/pool'] });
    expect(btrfsCommands.filesystemDu(['/e/pool/datasets/tf-1', '/e/pool/snapshots/snap-1'])).toEqual({
      file: 'btrfs',
      args: ['filesystem', 'du', '-s', '--raw', '/e/pool/datasets/tf-1', '/e/pool/snapshots/snap-1'],
    });
  });

  it('passes paths with spaces and shell characters as single arguments', () => {
    expect(btrfsCommands.createSubvolume('/a b/$(x);y').args).toEqual(['subvolume', 'create', '/a b/$(x);y']);
  });
});

describe('parseFilesystemDu', () => {
  it('reads Total, Exclusive and Set shared of each summary line, keeping paths with spaces', () => {
    const text = [
      '     Total   Exclusive  Set shared  Filename',
      '  4005888     1003520     3002368  /e/pool/datasets/tf-1',
      '  3002368           0     3002368  /e/my pool/snapshots/snap-1',
      '',
    ].join('\n');
    expect(parseFilesystemDu(text)).toEqual([
      { totalBytes: 4005888, exclusiveBytes: 1003520, setSharedBytes: 3002368, path: '/e/pool/datasets/tf-1' },
      { totalBytes: 3002368, exclusiveBytes: 0, setSharedBytes: 3002368, path: '/e/my pool/snapshots/snap-1' },
    ]);
  });

  it('skips lines that are not summaries, such as per-file lines without a set', () => {
    expect(parseFilesystemDu('     Total   Exclusive  Set shared  Filename\n   4096   4096   -  /e/f\n')).toEqual([]);
  });
});

describe('copyTreeCommand', () => {
  it('copies with cp -a (modes, owners, times, links), reflinks where possible, never into the target', () => {
    expect(copyTreeCommand('/p/datasets/ds-1', '/p/snapshots/.partial-snap-1')).toEqual({
      file: 'cp',
      args: ['-a', '--reflink=auto', '--no-target-directory', '/p/datasets/ds-1', '/p/snapshots/.partial-snap-1'],
    });
  });
});

describe('chooseBackend', () => {
  it('takes btrfs on auto when root, btrfs-progs and the kernel allow it, and says why', () => {
    const decision = chooseBackend('auto', capable);
    expect(decision.kind).toBe('btrfs');
    expect(decision.reason).toMatch(/^btrfs backend: running as root .*O\(1\)/);
  });

  it.each([
    [{ ...capable, isRoot: false }, /^dir backend: not running as root, so no loop-device btrfs pool/],
    [{ isRoot: true, kernelHasBtrfs: true }, /^dir backend: btrfs-progs .* is not installed/],
    [{ ...capable, kernelHasBtrfs: false }, /^dir backend: the kernel does not list btrfs/],
  ])('falls back to dir on auto and says why (%#)', (support: BtrfsSupport, reason: RegExp) => {
    const decision = chooseBackend('auto', support);
    expect(decision.kind).toBe('dir');
    expect(decision.reason).toMatch(reason);
    expect(decision.reason).toMatch(/full copies/);
  });

  it('takes dir when configured, whatever the machine offers', () => {
    expect(chooseBackend('dir', capable).kind).toBe('dir');
  });

  it('refuses btrfs by configuration where it cannot run, naming what is missing', () => {
    expect(() => chooseBackend('btrfs', { ...capable, isRoot: false })).toThrow(
      expect.objectContaining({
        name: ErrorNames.UnsupportedOperation,
        message: expect.stringMatching(/not running as root/),
      }),
    );
  });

  it('refuses an unknown backend with UnsupportedOperationError', () => {
    expect(() => chooseBackend('zfs' as StorageBackendChoice, capable)).toThrow(
      expect.objectContaining({ name: ErrorNames.UnsupportedOperation, field: 'backend' }),
    );
  });
});

describe('createStorageBackend', () => {
  it('builds an unopened dir backend on the given root, with the reason', async () => {
    const { backend, reason } = await createStorageBackend({ backend: 'dir', root: '/tmp/never-created' });
    expect(backend.kind).toBe('dir');
    expect(backend.root).toBe('/tmp/never-created');
    expect(backend.datasetPath('ds-1')).toBe('/tmp/never-created/pool/datasets/ds-1');
    expect(reason).toMatch(/^dir backend: chosen by configuration/);
  });

  it('rejects an unknown backend', async () => {
    await expect(
      createStorageBackend({ backend: 'nfs' as StorageBackendChoice, root: '/tmp/x' }),
    ).rejects.toMatchObject({
      name: ErrorNames.UnsupportedOperation,
    });
  });
});

describe('BtrfsBackend', () => {
  it('lays the pool out as an image and a mount point under the root', () => {
    const backend = new BtrfsBackend({ root: '/srv/engine' });
    expect(backend.imagePath).toBe('/srv/engine/pool.img');
    expect(backend.snapshotPath('snap-1')).toBe('/srv/engine/pool/snapshots/snap-1');
  });

  it('refuses a pool too small to format', () => {
    expect(() => new BtrfsBackend({ root: '/srv/engine', poolSizeBytes: MIN_POOL_SIZE_BYTES - 1 })).toThrow(
      expect.objectContaining({ name: ErrorNames.Validation, field: 'poolSizeBytes' }),
    );
  });
});

describe('runCommand', () => {
  it('resolves with stdout', async () => {
    expect(await runCommand({ file: 'printf', args: ['%s', 'a b'] })).toBe('a b');
  });

  it('throws StorageError with the command and its stderr when the command fails', async () => {
    const failing = runCommand({ file: 'ls', args: ['/definitely/not/here'] });
    await expect(failing).rejects.toMatchObject({
      name: ErrorNames.Storage,
      message: expect.stringMatching(/^ls \/definitely\/not\/here failed \(exit status 2\)/),
      output: expect.stringMatching(/No such file or directory/),
    });
  });

  it("passes the command a search path and the C locale, and nothing else of the engine's environment", async () => {
    // Prepare: what local mode puts in the engine's environment.
    process.env.ENGINE_TOKEN = 'secret-engine-token-0123456789';
    process.env.SNAPFLOW_ENGINE_TOKEN = 'secret-engine-token-0123456789';
    try {
      // Act
      const output = await runCommand({ file: 'env', args: [] });

      // Assess
      const variables = Object.fromEntries(
        output
          .trim()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      expect(variables).toEqual({ PATH: commandSearchPath(), LANG: 'C', LC_ALL: 'C' });
      expect(commandEnvironment()).toEqual(variables);
    } finally {
      delete process.env.ENGINE_TOKEN;
      delete process.env.SNAPFLOW_ENGINE_TOKEN;
    }
  });

  it('says so when the program is not installed', async () => {
    await expect(runCommand({ file: 'no-such-tool-snapflow', args: [] })).rejects.toMatchObject({
      name: ErrorNames.Storage,
      message: expect.stringMatching(/no-such-tool-snapflow is not installed/),
    });
  });
});

describe('commandSearchPath', () => {
  it('keeps the caller PATH first and adds the sbin directories it lacks', () => {
    const path = commandSearchPath('/opt/bin:/usr/bin').split(':');
    expect(path.slice(0, 2)).toEqual(['/opt/bin', '/usr/bin']);
    expect(path).toContain('/usr/sbin');
    expect(path.filter((directory) => directory === '/usr/bin')).toHaveLength(1);
  });
});
