import { chmod, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTreeManifest } from '../../../lib/adapters/tree-manifest';

describe('readTreeManifest', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'snapflow-manifest-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('records type, mode, size, hash, mtime, symlink target and hard-link group, sorted by path', async () => {
    await mkdir(join(root, 'd'));
    await writeFile(join(root, 'd/f'), 'hello');
    await chmod(join(root, 'd/f'), 0o4750);
    await utimes(join(root, 'd/f'), 1_700_000_000, 1_700_000_000);
    await link(join(root, 'd/f'), join(root, 'a-link'));
    await symlink('d/f', join(root, 's'));
    await mkdir(join(root, 'empty'));

    const manifest = await readTreeManifest(root);

    expect(manifest.map((entry) => entry.path)).toEqual(['a-link', 'd', 'd/f', 'empty', 's']);
    const helloHash = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
    expect(manifest.find((entry) => entry.path === 'd/f')).toEqual({
      path: 'd/f',
      type: 'file',
      mode: 0o4750,
      size: 5,
      sha256: helloHash,
      mtimeSec: 1_700_000_000,
      linkGroup: 'a-link',
    });
    expect(manifest.find((entry) => entry.path === 'a-link')?.linkGroup).toBe('a-link');
    expect(manifest.find((entry) => entry.path === 's')).toEqual({
      path: 's',
      type: 'symlink',
      mode: 0o777,
      target: 'd/f',
    });
    expect(manifest.find((entry) => entry.path === 'empty')?.type).toBe('dir');
  });

  it('does not group a file whose other name lies outside the tree', async () => {
    const inside = join(root, 'inside');
    await mkdir(inside);
    await writeFile(join(inside, 'f'), 'x');
    await link(join(inside, 'f'), join(root, 'outside'));
    const [entry] = await readTreeManifest(inside);
    expect(entry?.linkGroup).toBeUndefined();
  });
});
