import { describe, expect, it } from 'vitest';
import {
  mountLocationProblem,
  normalize,
  pathsOverlap,
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
    expect(unixPathProblem(`/${'a'.repeat(4095)}`)).toBe('is longer than 4095 characters');
  });

  it('agrees with UNIX_PATH_PATTERN, which the SSM documents enforce', () => {
    const pattern = new RegExp(UNIX_PATH_PATTERN);
    for (const path of ['/srv/data', '/a/.hidden', '/srv/../etc', 'rel', '/a b', '/a;b', '/..', '/.'])
      expect(pattern.test(path)).toBe(unixPathProblem(path) === undefined);
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
});
