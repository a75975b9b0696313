/**
 * Host paths that reach a host command. They are checked twice: here, for a friendly message, and by
 * the SSM documents' `allowedPattern` (the same patterns), so nothing else can reach a script.
 * Spaces, quotes and shell metacharacters are refused in these paths; the trees under them may hold
 * any names.
 */
export const UNIX_PATH_PATTERN = '^(?!.*(?:^|/)\\.\\.?(?:/|$))(?!.*[^/]{256})/[A-Za-z0-9._@+,=%/-]{0,4094}$';

/**
 * A {@link UNIX_PATH_PATTERN} path without `%`: ssh expands %-tokens in the key and known_hosts file
 * names it is given, so such a path would name another file.
 */
export const SSH_FILE_PATTERN = `^(?!.*%)${UNIX_PATH_PATTERN.slice(1)}`;

/** The longest path Linux accepts (PATH_MAX less the terminating NUL) and the longest name in it (NAME_MAX). */
const PATH_MAX = 4095;
const NAME_MAX = 255;

const unixPath = new RegExp(UNIX_PATH_PATTERN);
const allowedCharacter = /[A-Za-z0-9._@+,=%/-]/;

/**
 * Directories no mount, copy or export may cover, nor reach into: the one list that the TypeScript
 * checks, the SSM documents' patterns ({@link MOUNT_PATH_PATTERN}) and the host scripts' own
 * re-check of the resolved path are all made from.
 */
export const SYSTEM_DIRECTORIES: readonly string[] = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var/lib',
  '/var/log',
];

/** A system directory as a pattern fragment matching its spellings with repeated slashes (`/var//lib`). */
const systemDirectoryFragment = SYSTEM_DIRECTORIES.map((directory) =>
  directory
    .slice(1)
    .split('/')
    .map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('/+'),
).join('|');

/**
 * A host path where Snapflow may mount, copy or export to: a {@link UNIX_PATH_PATTERN} path that is not
 * the root directory, nor a system directory or a path inside one. The mount, check, unmount, copy
 * destination and export parameters of the SSM documents use it; {@link mountLocationProblem} says
 * the same in words.
 */
export const MOUNT_PATH_PATTERN = `^(?!/+$)(?!/+(?:${systemDirectoryFragment})(?:/|$))${UNIX_PATH_PATTERN.slice(1)}`;

/** Why `value` is not a usable absolute host path, or undefined when it is. */
export function unixPathProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (!value.startsWith('/')) return 'is not an absolute path (it must start with /)';
  if (value.split('/').some((segment) => segment === '..' || segment === '.')) return "contains a '.' or '..' segment";
  if (value.length > PATH_MAX) return `is longer than ${PATH_MAX} characters`;
  const bad = [...value].find((char) => !allowedCharacter.test(char));
  if (bad !== undefined) return `contains ${JSON.stringify(bad)}, which is not allowed in host paths`;
  if (value.split('/').some((segment) => segment.length > NAME_MAX)) {
    return `has a name longer than ${NAME_MAX} characters`;
  }
  if (!unixPath.test(value)) return 'is not a valid host path';
  return undefined;
}

/** Why `value` may not be used as a mount location (or copy target), or undefined when it may. */
export function mountLocationProblem(value: string): string | undefined {
  const problem = unixPathProblem(value);
  if (problem !== undefined) return problem;
  const system = systemDirectoryOf(value);
  if (system === '/') return 'is the root directory';
  if (system !== undefined) return `is inside the system directory ${system}`;
  return undefined;
}

/** `/` when `path` is the root, the system directory it is or lies in, or undefined. */
export function systemDirectoryOf(path: string): string | undefined {
  const normalized = normalize(path);
  if (normalized === '/') return '/';
  return SYSTEM_DIRECTORIES.find((dir) => normalized === dir || normalized.startsWith(`${dir}/`));
}

/** Drops repeated and trailing slashes: `/a//b/` becomes `/a/b`. */
export function normalize(path: string): string {
  const trimmed = path.replace(/\/+/g, '/').replace(/\/$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** Whether one of the two paths lies inside the other (or they are the same). */
export function pathsOverlap(a: string, b: string): boolean {
  // With a slash after each, so that /mnt/a does not contain /mnt/ab; the root has its slash already.
  const withSlash = (path: string) => (normalize(path) === '/' ? '/' : `${normalize(path)}/`);
  const [x, y] = [withSlash(a), withSlash(b)];
  return x.startsWith(y) || y.startsWith(x);
}

/** A path held on one host, such as a dataset's mount location, that no mount, copy or export there may overlap. */
export interface PathInUse {
  path: string;
  /** The host holding it; undefined when unknown (its record's environment is gone): it then clashes nowhere. */
  hostId: string | undefined;
  /** What holds it, as a message names it after "overlaps": `the mount location /mnt/dev of VDB vdb-…`. */
  label: string;
}

/**
 * What a mount, copy or export at `candidate` on host `hostId` would overlap (be, lie in, or contain):
 * the first of `reserved`, which are held on every host (the engine's storage: in local mode hosts
 * share the engine's machine), else the first of `inUse` held on that host; undefined when none.
 */
export function pathClash(
  candidate: string,
  hostId: string,
  inUse: readonly PathInUse[],
  reserved: readonly Omit<PathInUse, 'hostId'>[] = [],
): Omit<PathInUse, 'hostId'> | undefined {
  return (
    reserved.find((held) => pathsOverlap(candidate, held.path)) ??
    inUse.find((held) => held.hostId === hostId && pathsOverlap(candidate, held.path))
  );
}
