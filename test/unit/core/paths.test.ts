import { describe, expect, it } from 'vitest';
import {
  MOUNT_PATH_PATTERN,
  mountLocationProblem,
  normalize,
  pathClash,
  pathsOverlap,
  SYSTEM_DIRECTORIES,
  systemDirectoryOf,
  UNIX_PATH_PATTERN,
  unixPathProblem,
} from '../../../lib/core/paths';

describe('unixPathProblem', () => {
  it.each([
    ['/srv/data', undefined],
    ['/srv/data/', undefined],
    ['/a/.hidden/b', undefined],
    ['/a/b..c', undefined],
  ])('accepts %j', (path, expected) => {
    expect(unixPathProblem(path)).toBe(expected);
  });

  it.each([
    ['', 'is empty'],
    ['srv/data', 'is not an absolute path (it must start with /)'],
    ['/srv/../etc', "contains a '.' or '..' segment"],
    ['/srv/./x', "contains a '.' or '..' segment"],
    ['/srv/..', "contains a '.' or '..' segment"],
    ['/srv/da ta', 'contains " ", which is not allowed in host paths'],
    ["/srv/it's", 'contains "\'", which is not allowed in host paths'],
    ['/srv/$(reboot)', 'contains "$", which is not allowed in host paths'],
    ['/srv/a\nb', 'contains "\\n", which is not allowed in host paths'],
  ])('rejects %j: %s', (path, expected) => {
    expect(unixPathProblem(path)).toBe(expected);
  });

  it('rejects a path longer than 4095 characters', () => {
    expect(unixPathProblem(`/${'a/'.repeat(2047)}b`)).toBe('is longer than 4095 characters');
  });

  it('rejects a name longer than 255 characters, which no Linux filesystem takes', () => {
    expect(unixPathProblem(`/mnt/${'a'.repeat(255)}`)).toBeUndefined();
    expect(unixPathProblem(`/mnt/${'a'.repeat(256)}/x`)).toBe('has a name longer than 255 characters');
  });

  it('names a NUL or a lone surrogate without printing it', () => {
    expect(unixPathProblem('/mnt/a\u0000b')).toBe('contains "\\u0000", which is not allowed in host paths');
    expect(unixPathProblem('/mnt/\ud800')).toBe('contains "\\ud800", which is not allowed in host paths');
  });

  it('agrees with UNIX_PATH_PATTERN, which the SSM documents enforce', () => {
    const pattern = new RegExp(UNIX_PATH_PATTERN);
    const long = `/${'a/'.repeat(2047)}b`;
    for (const path of [
      '/srv/data',
      '/a/.hidden',
      '/srv/../etc',
      'rel',
      '/a b',
      '/a;b',
      '/..',
      '/.',
      `/${'n'.repeat(255)}`,
      `/${'n'.repeat(256)}`,
      long,
      long.slice(1),
    ])
      expect(pattern.test(path), path.slice(0, 40)).toBe(unixPathProblem(path) === undefined);
  });
});

describe('mountLocationProblem', () => {
  it('refuses the root and system directories', () => {
    expect(mountLocationProblem('/')).toBe('is the root directory');
    expect(mountLocationProblem('/etc')).toBe('is inside the system directory /etc');
    expect(mountLocationProblem('/usr/local/x')).toBe('is inside the system directory /usr');
  });

  it('accepts a path beside a system directory', () => {
    expect(mountLocationProblem('/etcetera/mnt')).toBeUndefined();
    expect(mountLocationProblem('/mnt/snapflow/vdb-1')).toBeUndefined();
  });

  it('sees through repeated and trailing slashes', () => {
    expect(mountLocationProblem('//')).toBe('is the root directory');
    expect(mountLocationProblem('/var//log/')).toBe('is inside the system directory /var/log');
    expect(systemDirectoryOf('/var/lib//x')).toBe('/var/lib');
    expect(systemDirectoryOf('/var/libx')).toBeUndefined();
  });

  it('agrees with MOUNT_PATH_PATTERN, which the SSM documents enforce for mount points and copy targets', () => {
    const pattern = new RegExp(MOUNT_PATH_PATTERN);
    const values = [
      '/',
      '//',
      '/mnt/x',
      '/var/tmp/x',
      'rel',
      '/a/../b',
      ...SYSTEM_DIRECTORIES.flatMap((dir) => [dir, `${dir}/`, `${dir}/x`, `/${dir}//x`, `${dir}x`, `${dir}-2/x`]),
    ];
    for (const value of values) expect(pattern.test(value), value).toBe(mountLocationProblem(value) === undefined);
  });
});

describe('normalize and pathsOverlap', () => {
  it('folds repeated and trailing slashes', () => {
    expect(normalize('//a//b/')).toBe('/a/b');
    expect(normalize('/')).toBe('/');
  });

  it('finds nesting in either direction but not shared prefixes', () => {
    expect(pathsOverlap('/mnt/a', '/mnt/a/b')).toBe(true);
    expect(pathsOverlap('/mnt/a/b/', '/mnt/a')).toBe(true);
    expect(pathsOverlap('/mnt/a', '/mnt/ab')).toBe(false);
  });

  it('takes the root directory to contain every path', () => {
    expect(pathsOverlap('/', '/mnt/a')).toBe(true);
    expect(pathsOverlap('/mnt/a', '//')).toBe(true);
  });
});

describe('pathClash', () => {
  const inUse = [
    { path: '/mnt/dev', hostId: 'i-1', label: 'the mount location /mnt/dev of VDB vdb-1' },
    { path: '/mnt/staging', hostId: 'i-2', label: 'the staging mount location /mnt/staging of dSource ds-1' },
    { path: '/mnt/gone', hostId: undefined, label: 'the mount location /mnt/gone of VDB vdb-2' },
  ];
  const reserved = [{ path: '/srv/snapflow', label: "the engine's storage at /srv/snapflow" }];

  it('finds a path in use on the same host that the candidate is, lies in or contains', () => {
    expect(pathClash('/mnt/dev', 'i-1', inUse, reserved)?.label).toBe(inUse[0]?.label);
    expect(pathClash('/mnt/dev/sub', 'i-1', inUse)?.label).toBe(inUse[0]?.label);
    expect(pathClash('/mnt', 'i-2', inUse)?.label).toBe(inUse[1]?.label);
  });

  it('ignores paths held on other hosts, or on no known host, and mere shared prefixes', () => {
    expect(pathClash('/mnt/dev', 'i-2', inUse)).toBeUndefined();
    expect(pathClash('/mnt/gone', 'i-1', inUse)).toBeUndefined();
    expect(pathClash('/mnt/devices', 'i-1', inUse)).toBeUndefined();
  });

  it('finds a reserved path on every host, before any path in use', () => {
    expect(pathClash('/srv/snapflow/pool/x', 'i-9', inUse, reserved)?.label).toBe(reserved[0]?.label);
    expect(pathClash('/srv', 'i-1', inUse, reserved)?.label).toBe(reserved[0]?.label);
  });
});
