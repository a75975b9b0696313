import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFile,
  chmod,
  chown,
  link,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findMount } from '../../lib/adapters/mount-table';
import { ErrorNames } from '../../lib/core/errors';
import { BtrfsBackend } from '../../lib/engine/backends/btrfs-backend';
import { DirBackend } from '../../lib/engine/backends/dir-backend';
import type { StorageBackend } from '../../lib/engine/backends/storage-backend';
import { IS_ROOT, makeTempRoot, mountsUnder, removeTempRoot } from '../support/engine-temp-root';

const run = promisify(execFile);

/** A backend under test, built on a fresh temporary root. */
type BackendFactory = (root: string) => StorageBackend;

/**
 * The contract every storage backend keeps. Each test gets its own temporary root, and the root is
 * destroyed (unmounted, removed) after the test whether it passed or not.
 */
function describeStorageBackendContract(name: string, makeBackend: BackendFactory): void {
  describe(`StorageBackend contract: ${name}`, () => {
    let temp: string;
    let backend: StorageBackend;

    beforeEach(async () => {
      temp = await makeTempRoot(`contract-${name}`);
      backend = makeBackend(join(temp, 'engine'));
      await backend.open();
    });

    afterEach(async () => {
      try {
        await backend.destroy();
      } finally {
        await removeTempRoot(temp);
      }
    });

    it('starts empty, and opening again changes nothing', async () => {
      // Act
      await backend.open();

      // Assess
      expect(await backend.list()).toEqual({ datasets: [], snapshots: [] });
    });

    it('creates an empty writable dataset and refuses an id that is taken', async () => {
      // Act
      const path = await backend.createDataset('ds-1');

      // Assess
      expect(path).toBe(backend.datasetPath('ds-1'));
      expect(await readdir(path)).toEqual([]);
      await writeFile(join(path, 'hello.txt'), 'hi');
      expect(await readFile(join(path, 'hello.txt'), 'utf8')).toBe('hi');
      await expect(backend.createDataset('ds-1')).rejects.toMatchObject({ name: ErrorNames.Conflict });
    });

    it('keeps a snapshot unchanged when its dataset changes later', async () => {
      // Prepare
      const dataset = await backend.createDataset('ds-1');
      await writeFile(join(dataset, 'kept.txt'), 'version 1');
      await writeFile(join(dataset, 'removed.txt'), 'still here');

      // Act
      const snapshot = await backend.snapshot('ds-1', 'snap-1');
      await writeFile(join(dataset, 'kept.txt'), 'version 2');
      await rm(join(dataset, 'removed.txt'));
      await writeFile(join(dataset, 'added.txt'), 'new');

      // Assess
      expect(snapshot).toBe(backend.snapshotPath('snap-1'));
      expect(await readFile(join(snapshot, 'kept.txt'), 'utf8')).toBe('version 1');
      expect(await readFile(join(snapshot, 'removed.txt'), 'utf8')).toBe('still here');
      expect((await readdir(snapshot)).sort()).toEqual(['kept.txt', 'removed.txt']);
    });

    it('makes clones that are writable and independent of snapshot and dataset, both ways', async () => {
      // Prepare
      const dataset = await backend.createDataset('ds-1');
      await writeFile(join(dataset, 'data.txt'), 'original');
      const snapshot = await backend.snapshot('ds-1', 'snap-1');

      // Act
      const clone = await backend.clone('snap-1', 'vdb-1');
      const sibling = await backend.clone('snap-1', 'vdb-2');
      await appendFile(join(clone, 'data.txt'), ' + clone edit');
      await writeFile(join(clone, 'clone-only.txt'), 'mine');
      await appendFile(join(dataset, 'data.txt'), ' + dataset edit');

      // Assess
      expect(await readFile(join(clone, 'data.txt'), 'utf8')).toBe('original + clone edit');
      expect(await readFile(join(dataset, 'data.txt'), 'utf8')).toBe('original + dataset edit');
      expect(await readFile(join(snapshot, 'data.txt'), 'utf8')).toBe('original');
      expect(await readFile(join(sibling, 'data.txt'), 'utf8')).toBe('original');
      expect(await readdir(snapshot)).toEqual(['data.txt']);
      expect(await readdir(dataset)).toEqual(['data.txt']);
    });

    it('preserves modes, owners, symlinks, hard links and mtimes in snapshots and clones', async () => {
      // Prepare
      const dataset = await backend.createDataset('ds-1');
      await buildRichTree(dataset);
      const before = await describeTree(dataset);

      // Act
      const snapshot = await backend.snapshot('ds-1', 'snap-1');
      const clone = await backend.clone('snap-1', 'vdb-1');

      // Assess
      expect(await describeTree(snapshot)).toEqual(before);
      expect(await describeTree(clone)).toEqual(before);
      // Taking the copies must not have touched the data they were taken from.
      expect(await describeTree(dataset)).toEqual(before);
    });

    it('lists what exists and deletes datasets and snapshots', async () => {
      // Prepare
      await backend.createDataset('ds-1');
      await backend.createDataset('ds-2');
      await backend.snapshot('ds-1', 'snap-1');
      await backend.clone('snap-1', 'vdb-1');
      expect(await backend.list()).toEqual({ datasets: ['ds-1', 'ds-2', 'vdb-1'], snapshots: ['snap-1'] });

      // Act
      await backend.deleteSnapshot('snap-1');
      await backend.deleteDataset('ds-2');

      // Assess
      expect(await backend.list()).toEqual({ datasets: ['ds-1', 'vdb-1'], snapshots: [] });
      await expect(lstat(backend.snapshotPath('snap-1'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(lstat(backend.datasetPath('ds-2'))).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('sets storage aside under a name list() never shows, keeping its data, and names the command that removes it', async () => {
      // Prepare
      await writeFile(join(await backend.createDataset('tf-1'), 'data.txt'), 'kept');
      await backend.snapshot('tf-1', 'snap-1');

      // Act: a dataset and a (read-only) snapshot set aside, then a second dataset with the first one's id.
      const dataset = await backend.quarantine('dataset', 'tf-1');
      const snapshot = await backend.quarantine('snapshot', 'snap-1');
      await backend.createDataset('tf-1');
      const second = await backend.quarantine('dataset', 'tf-1');
      await backend.open();

      // Assess
      expect(await backend.list()).toEqual({ datasets: [], snapshots: [] });
      expect([dataset, second, snapshot]).toEqual([
        join(temp, 'engine', 'pool', 'datasets', '.orphan-tf-1'),
        join(temp, 'engine', 'pool', 'datasets', '.orphan-tf-1.1'),
        join(temp, 'engine', 'pool', 'snapshots', '.orphan-snap-1'),
      ]);
      expect(await readFile(join(dataset, 'data.txt'), 'utf8')).toBe('kept');
      expect(await readFile(join(snapshot, 'data.txt'), 'utf8')).toBe('kept');
      expect(await backend.listQuarantined()).toEqual([
        { kind: 'dataset', id: 'tf-1', path: dataset },
        { kind: 'dataset', id: 'tf-1', path: second },
        { kind: 'snapshot', id: 'snap-1', path: snapshot },
      ]);
      await expect(backend.quarantine('dataset', 'tf-missing')).rejects.toMatchObject({ name: ErrorNames.NotFound });
      for (const tree of await backend.listQuarantined()) await run('sh', ['-c', backend.removalCommand(tree.path)]);
      expect(await backend.listQuarantined()).toEqual([]);
    });

    it('deletes trees holding read-only files and directories', async () => {
      // Prepare
      const dataset = await backend.createDataset('ds-1');
      await mkdir(join(dataset, 'locked'));
      await writeFile(join(dataset, 'locked', 'file.txt'), 'x', { mode: 0o444 });
      await chmod(join(dataset, 'locked'), 0o555);
      await backend.snapshot('ds-1', 'snap-1');

      // Act
      await backend.deleteSnapshot('snap-1');
      await backend.deleteDataset('ds-1');

      // Assess
      expect(await backend.list()).toEqual({ datasets: [], snapshots: [] });
    });

    it('answers NotFoundError for missing ids and ValidationError for ids that cannot name storage', async () => {
      await expect(backend.snapshot('ds-missing', 'snap-1')).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(backend.clone('snap-missing', 'vdb-1')).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(backend.deleteDataset('ds-missing')).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(backend.deleteSnapshot('snap-missing')).rejects.toMatchObject({ name: ErrorNames.NotFound });
      for (const bad of ['..', '../escape', 'a/b', '.hidden', '', 'x'.repeat(200)]) {
        await expect(backend.createDataset(bad)).rejects.toMatchObject({ name: ErrorNames.Validation });
      }
    });

    it('measures trees: file data once per inode, summed over trees; no trees take nothing', async () => {
      // Prepare: 64 KiB, and 32 KiB under two names, of incompressible data.
      const dataset = await backend.createDataset('ds-1');
      await writeFile(join(dataset, 'a.bin'), randomBytes(64 * 1024));
      await mkdir(join(dataset, 'sub'));
      await writeFile(join(dataset, 'sub', 'b.bin'), randomBytes(32 * 1024));
      await link(join(dataset, 'sub', 'b.bin'), join(dataset, 'b-again.bin'));
      await symlink('a.bin', join(dataset, 'link'));
      await backend.snapshot('ds-1', 'snap-1');
      const size = 96 * 1024;

      // Act
      const ofDataset = await backend.treeUsage([{ kind: 'dataset', id: 'ds-1' }]);
      const ofBoth = await backend.treeUsage([
        { kind: 'dataset', id: 'ds-1' },
        { kind: 'snapshot', id: 'snap-1' },
      ]);

      // Assess
      expect(ofDataset.totalBytes).toBe(size);
      expect(ofBoth.totalBytes).toBe(2 * size);
      for (const usage of [ofDataset, ofBoth]) {
        expect(usage.exact).toBe(backend.kind === 'btrfs');
        expect(usage.exclusiveBytes + usage.sharedBytes).toBe(usage.totalBytes);
        if (!usage.exact) expect(usage.exclusiveBytes).toBe(usage.totalBytes);
      }
      expect(await backend.treeUsage([])).toEqual({ totalBytes: 0, exclusiveBytes: 0, sharedBytes: 0, exact: true });
      await expect(backend.treeUsage([{ kind: 'snapshot', id: 'snap-missing' }])).rejects.toMatchObject({
        name: ErrorNames.NotFound,
      });
    });

    it('renames a dataset in place, keeping its data and its snapshots, and refuses missing or taken ids', async () => {
      // Prepare
      const dataset = await backend.createDataset('ds-1');
      await writeFile(join(dataset, 'data.txt'), 'kept');
      await backend.snapshot('ds-1', 'snap-1');
      await backend.createDataset('ds-2');

      // Act
      await backend.renameDataset('ds-1', 'tf-1');

      // Assess
      expect(await backend.list()).toEqual({ datasets: ['ds-2', 'tf-1'], snapshots: ['snap-1'] });
      expect(await readFile(join(backend.datasetPath('tf-1'), 'data.txt'), 'utf8')).toBe('kept');
      await backend.snapshot('tf-1', 'snap-2');
      expect(await readFile(join(backend.snapshotPath('snap-2'), 'data.txt'), 'utf8')).toBe('kept');
      await expect(backend.renameDataset('ds-1', 'tf-9')).rejects.toMatchObject({ name: ErrorNames.NotFound });
      await expect(backend.renameDataset('ds-2', 'tf-1')).rejects.toMatchObject({ name: ErrorNames.Conflict });
      await expect(backend.renameDataset('ds-2', '../x')).rejects.toMatchObject({ name: ErrorNames.Validation });
    });

    it('refuses to work before open() and after close()', async () => {
      // Act
      await backend.close();

      // Assess
      await expect(backend.createDataset('ds-1')).rejects.toMatchObject({ name: ErrorNames.Storage });
      await expect(backend.list()).rejects.toMatchObject({ name: ErrorNames.Storage });
    });

    it('keeps the data across close() and open()', async () => {
      // Prepare
      const dataset = await backend.createDataset('ds-1');
      await writeFile(join(dataset, 'data.txt'), 'durable');
      await backend.snapshot('ds-1', 'snap-1');

      // Act
      await backend.close();
      await backend.open();

      // Assess
      expect(await backend.list()).toEqual({ datasets: ['ds-1'], snapshots: ['snap-1'] });
      expect(await readFile(join(backend.snapshotPath('snap-1'), 'data.txt'), 'utf8')).toBe('durable');
    });

    it('removes everything it created on destroy()', async () => {
      // Prepare
      await backend.createDataset('ds-1');

      // Act
      await backend.destroy();

      // Assess
      await expect(lstat(backend.root)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await mountsUnder(temp)).toEqual([]);
    });
  });
}

describeStorageBackendContract('dir', (root) => new DirBackend(root));

describe.runIf(IS_ROOT)('btrfs backend (needs root for loop mounts; runs when root)', () => {
  describeStorageBackendContract('btrfs', (root) => new BtrfsBackend({ root, poolSizeBytes: 1024 ** 3 }));

  describe('BtrfsBackend specifics', () => {
    let temp: string;
    let backend: BtrfsBackend;

    beforeEach(async () => {
      temp = await makeTempRoot('contract-btrfs-only');
      backend = new BtrfsBackend({ root: join(temp, 'engine'), poolSizeBytes: 1024 ** 3 });
      await backend.open();
    });

    afterEach(async () => {
      try {
        await backend.destroy();
      } finally {
        await removeTempRoot(temp);
      }
    });

    it('makes snapshots read-only', async () => {
      // Prepare
      const dataset = await backend.createDataset('ds-1');
      await writeFile(join(dataset, 'data.txt'), 'x');

      // Act
      const snapshot = await backend.snapshot('ds-1', 'snap-1');

      // Assess
      await expect(writeFile(join(snapshot, 'data.txt'), 'y')).rejects.toMatchObject({ code: 'EROFS' });
      const { stdout } = await run('btrfs', ['property', 'get', snapshot, 'ro']);
      expect(stdout.trim()).toBe('ro=true');
    });

    it('snapshots and clones share all extents with their source: no data is copied', async () => {
      // Prepare: 32 MiB of incompressible data, flushed so that its extents are allocated.
      const dataset = await backend.createDataset('ds-1');
      for (let chunk = 0; chunk < 32; chunk += 1) await appendFile(join(dataset, 'big.bin'), randomBytes(1024 ** 2));
      await run('btrfs', ['filesystem', 'sync', dataset]);

      // Act
      const snapshot = await backend.snapshot('ds-1', 'snap-1');
      const clone = await backend.clone('snap-1', 'vdb-1');
      await run('btrfs', ['filesystem', 'sync', dataset]);

      // Assess
      for (const path of [snapshot, clone]) {
        const usage = await filesystemDu(path);
        expect(usage.total).toBe(32 * 1024 ** 2);
        expect(usage.exclusive).toBe(0);
      }
      const shown = await run('btrfs', ['subvolume', 'show', clone]);
      const snapshotUuid = /^\s*UUID:\s*(\S+)/m.exec((await run('btrfs', ['subvolume', 'show', snapshot])).stdout)?.[1];
      expect(shown.stdout).toMatch(new RegExp(`Parent UUID:\\s*${snapshotUuid}`));
    });

    it('measures clones as sharing all their data until written, exactly', async () => {
      // Prepare: 16 MiB of incompressible data, snapshotted and cloned.
      const dataset = await backend.createDataset('ds-1');
      for (let chunk = 0; chunk < 16; chunk += 1) await appendFile(join(dataset, 'big.bin'), randomBytes(1024 ** 2));
      await backend.snapshot('ds-1', 'snap-1');
      const clone = await backend.clone('snap-1', 'vdb-1');
      const size = 16 * 1024 ** 2;

      // Act: measured at once, and again after 1 MiB written only to the clone (not yet flushed).
      const fresh = await backend.treeUsage([{ kind: 'dataset', id: 'vdb-1' }]);
      await writeFile(join(clone, 'new.bin'), randomBytes(1024 ** 2));
      const written = await backend.treeUsage([{ kind: 'dataset', id: 'vdb-1' }]);

      // Assess
      expect(fresh).toEqual({ totalBytes: size, exclusiveBytes: 0, sharedBytes: size, exact: true });
      expect(written).toEqual({
        totalBytes: size + 1024 ** 2,
        exclusiveBytes: 1024 ** 2,
        sharedBytes: size,
        exact: true,
      });
    });

    it('loop-mounts its image and detaches the loop device on close()', async () => {
      // Prepare
      const poolPath = join(backend.root, 'pool');
      const mounted = await findMount(poolPath);
      expect(mounted).toMatchObject({ fsType: 'btrfs', source: expect.stringMatching(/^\/dev\/loop[0-9]+$/) });

      // Act
      await backend.close();

      // Assess
      expect(await findMount(poolPath)).toBeUndefined();
      const { stdout } = await run('losetup', ['--associated', backend.imagePath]);
      expect(stdout.trim()).toBe('');
    });

    it('refuses a pool directory with another filesystem mounted on it, and leaves that mount alone', async () => {
      // Prepare: a tmpfs where the pool would be mounted.
      await backend.close();
      const poolPath = join(backend.root, 'pool');
      await run('mount', ['-t', 'tmpfs', 'tmpfs', poolPath]);

      // Act
      const opening = backend.open();

      // Assess
      await expect(opening).rejects.toMatchObject({ name: ErrorNames.Storage });
      await expect(backend.close()).rejects.toMatchObject({ name: ErrorNames.Storage });
      expect(await findMount(poolPath)).toMatchObject({ fsType: 'tmpfs' });
      await run('umount', [poolPath]);
    });
  });
});

describe('DirBackend specifics', () => {
  let temp: string;
  let backend: DirBackend;

  beforeEach(async () => {
    temp = await makeTempRoot('contract-dir-only');
    backend = new DirBackend(join(temp, 'engine'));
    await backend.open();
  });

  afterEach(async () => {
    try {
      await backend.destroy();
    } finally {
      await removeTempRoot(temp);
    }
  });

  it('sweeps copies and removals a crash left half done, which list() never shows', async () => {
    // Prepare: what a crash in the middle of a copy and of a removal leaves behind.
    const datasets = join(backend.root, 'pool', 'datasets');
    const snapshots = join(backend.root, 'pool', 'snapshots');
    await mkdir(join(snapshots, '.partial-snap-1', 'sub'), { recursive: true });
    await mkdir(join(datasets, '.deleting-ds-1-0123abcd'));
    expect(await backend.list()).toEqual({ datasets: [], snapshots: [] });

    // Act
    await backend.open();

    // Assess
    expect(await readdir(datasets)).toEqual([]);
    expect(await readdir(snapshots)).toEqual([]);
  });
});

/** Exact sizes from `btrfs filesystem du --raw`: what a path's files take, and what only they take. */
async function filesystemDu(path: string): Promise<{ total: number; exclusive: number }> {
  const { stdout } = await run('btrfs', ['filesystem', 'du', '-s', '--raw', path]);
  const [total, exclusive] = (stdout.trim().split('\n').at(-1) ?? '').trim().split(/\s+/).map(Number);
  return { total: total ?? Number.NaN, exclusive: exclusive ?? Number.NaN };
}

/**
 * A tree with what a copy tends to lose: unusual modes (setgid, sticky, read-only, private), a
 * foreign owner (as root), relative and dangling symlinks, hard links, and old mtimes down to the
 * nanosecond on files and directories.
 */
async function buildRichTree(root: string): Promise<void> {
  await writeFile(join(root, 'plain.txt'), 'plain');
  await chmod(join(root, 'plain.txt'), 0o640);
  await mkdir(join(root, 'bin'));
  await writeFile(join(root, 'bin', 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'bin', 'run.sh'), 0o755);
  await writeFile(join(root, 'read-only.txt'), 'frozen');
  await chmod(join(root, 'read-only.txt'), 0o444);
  await mkdir(join(root, 'shared'));
  await chmod(join(root, 'shared'), 0o2775);
  await mkdir(join(root, 'tmp'));
  await chmod(join(root, 'tmp'), 0o1777);
  await mkdir(join(root, 'private'));
  await writeFile(join(root, 'private', 'key'), 'secret');
  await chmod(join(root, 'private', 'key'), 0o600);
  await chmod(join(root, 'private'), 0o700);
  await symlink('plain.txt', join(root, 'link-to-plain'));
  await symlink('../nowhere', join(root, 'dangling-link'));
  await link(join(root, 'plain.txt'), join(root, 'bin', 'hard-link-to-plain'));
  if (IS_ROOT) await chown(join(root, 'shared'), 1234, 4321);
  const old = new Date('2001-02-03T04:05:06.789Z');
  for (const path of ['plain.txt', 'bin/run.sh', 'read-only.txt', 'private/key'])
    await utimes(join(root, path), old, old);
  // Directories last: creating entries inside them would move their mtimes again.
  for (const path of ['bin', 'shared', 'tmp', 'private', '.']) await utimes(join(root, path), old, old);
}

/** Everything a faithful copy keeps, for every entry including the root, sorted by path. */
async function describeTree(root: string): Promise<Record<string, unknown>[]> {
  const entries: Record<string, unknown>[] = [];
  const firstPathOfInode = new Map<bigint, string>();
  const visit = async (relative: string): Promise<void> => {
    const path = join(root, relative);
    const stats = await lstat(path, { bigint: true });
    const entry: Record<string, unknown> = {
      path: relative,
      mode: (stats.mode & 0o177777n).toString(8),
      uid: stats.uid,
      gid: stats.gid,
      mtimeNs: stats.mtimeNs,
    };
    if (stats.isSymbolicLink()) entry.target = await readlink(path);
    if (stats.isFile()) {
      entry.content = await readFile(path, 'utf8');
      if (!firstPathOfInode.has(stats.ino)) firstPathOfInode.set(stats.ino, relative);
      entry.sameInodeAs = firstPathOfInode.get(stats.ino);
    }
    entries.push(entry);
    if (stats.isDirectory()) for (const name of (await readdir(path)).sort()) await visit(join(relative, name));
  };
  await visit('.');
  return entries;
}
