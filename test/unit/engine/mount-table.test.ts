import { describe, expect, it } from 'vitest';
import { type MountEntry, mountsOfTree, parseMountInfo } from '../../../lib/adapters/mount-table';

describe('parseMountInfo', () => {
  it('reads device, root, mount point, type and source, past optional fields and octal escapes', () => {
    // Prepare
    const text = [
      '22 1 0:21 / /proc rw,nosuid shared:5 - proc proc rw',
      '36 35 98:0 /mnt1 /tmp/with\\040space rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue',
      '120 24 0:55 / /tmp/e/pool rw,relatime - btrfs /dev/loop3 rw,space_cache=v2',
      '121 24 0:55 /datasets/tf-1 /mnt/my\\040vdb rw,relatime - btrfs /dev/loop3 rw,subvol=/datasets/tf-1',
      '',
    ].join('\n');

    // Act
    const entries = parseMountInfo(text);

    // Assess
    expect(entries).toEqual([
      { device: '0:21', root: '/', mountPoint: '/proc', fsType: 'proc', source: 'proc' },
      { device: '98:0', root: '/mnt1', mountPoint: '/tmp/with space', fsType: 'ext3', source: '/dev/root' },
      { device: '0:55', root: '/', mountPoint: '/tmp/e/pool', fsType: 'btrfs', source: '/dev/loop3' },
      { device: '0:55', root: '/datasets/tf-1', mountPoint: '/mnt/my vdb', fsType: 'btrfs', source: '/dev/loop3' },
    ]);
  });

  it('skips lines it cannot read', () => {
    expect(parseMountInfo('garbage line\n1 2 3')).toEqual([]);
  });
});

describe('mountsOfTree', () => {
  const rootFs: MountEntry = { device: '254:0', root: '/', mountPoint: '/', fsType: 'ext4', source: '/dev/vda' };
  const pool: MountEntry = {
    device: '0:39',
    root: '/',
    mountPoint: '/srv/engine/pool',
    fsType: 'btrfs',
    source: '/dev/loop0',
  };
  const on = (entry: MountEntry, root: string, mountPoint: string): MountEntry => ({ ...entry, root, mountPoint });

  it('finds bind mounts of a btrfs subvolume by their root, and of a directory in it', () => {
    const table = [
      rootFs,
      pool,
      on(pool, '/datasets/tf-1', '/mnt/vdb'),
      on(pool, '/datasets/tf-1/sub', '/mnt/part'),
      on(pool, '/datasets/tf-10', '/mnt/other'),
      on(pool, '/datasets', '/mnt/all'),
    ];
    expect(mountsOfTree('/srv/engine/pool/datasets/tf-1', table)).toEqual([
      { mountPoint: '/mnt/vdb', how: 'bind' },
      { mountPoint: '/mnt/part', how: 'bind' },
    ]);
    expect(mountsOfTree('/srv/engine/pool/datasets/tf-2', table)).toEqual([]);
  });

  it('finds bind mounts of a plain directory by its path within its filesystem', () => {
    // /srv is a filesystem of its own here, so the directory's root there is /engine/pool/datasets/tf-1.
    const srv: MountEntry = { device: '8:1', root: '/', mountPoint: '/srv', fsType: 'xfs', source: '/dev/sda1' };
    const table = [
      rootFs,
      srv,
      on(srv, '/engine/pool/datasets/tf-1', '/mnt/vdb'),
      on(rootFs, '/engine/pool/datasets/tf-1', '/x'),
    ];
    expect(mountsOfTree('/srv/engine/pool/datasets/tf-1', table)).toEqual([{ mountPoint: '/mnt/vdb', how: 'bind' }]);
  });

  it('finds mounts on the tree itself or inside it, whatever their filesystem', () => {
    const tmpfs: MountEntry = { device: '0:80', root: '/', mountPoint: '', fsType: 'tmpfs', source: 'tmpfs' };
    const table = [
      rootFs,
      pool,
      { ...tmpfs, mountPoint: '/srv/engine/pool/datasets/tf-1' },
      { ...tmpfs, mountPoint: '/srv/engine/pool/datasets/tf-1/cache' },
      { ...tmpfs, mountPoint: '/srv/engine/pool/datasets/tf-12' },
    ];
    expect(mountsOfTree('/srv/engine/pool/datasets/tf-1', table)).toEqual([
      { mountPoint: '/srv/engine/pool/datasets/tf-1', how: 'inside' },
      { mountPoint: '/srv/engine/pool/datasets/tf-1/cache', how: 'inside' },
    ]);
  });

  it('refuses a relative path', () => {
    expect(() => mountsOfTree('pool/datasets/tf-1', [rootFs])).toThrow(/absolute/);
  });
});
