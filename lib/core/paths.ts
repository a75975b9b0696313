/**
 * Host paths that reach a host command. They are checked twice: here, for a friendly message, and by
 * the SSM documents' `allowedPattern` (the same pattern), so nothing else can reach a script.
 * Spaces, quotes and shell metacharacters are refused in these paths; the trees under them may hold
 * any names.
 */
export const UNIX_PATH_PATTERN = '^(?!.*(?:^|/)\\.\\.?(?:/|$))/[A-Za-z0-9._@+,=%/-]{0,4094}$';

const unixPath = new RegExp(UNIX_PATH_PATTERN);
const allowedCharacter = /[A-Za-z0-9._@+,=%/-]/;

/** Directories no mount may cover, nor contain a mount path inside them. */
const SYSTEM_DIRECTORIES = [
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

/** Why `value` is not a usable absolute host path, or undefined when it is. */
export function unixPathProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (!value.startsWith('/')) return 'is not an absolute path (it must start with /)';
  if (value.split('/').some((segment) => segment === '..' || segment === '.')) return "contains a '.' or '..' segment";
  if (value.length > 4095) return 'is longer than 4095 characters';
  const bad = [...value].find((char) => !allowedCharacter.test(char));
  if (bad !== undefined) return `contains ${JSON.stringify(bad)}, which is not allowed in host paths`;
  if (!unixPath.test(value)) return 'is not a valid host path';
  return undefined;
}

/** Why `value` may not be used as a mount location, or undefined when it may. */
export function mountLocationProblem(value: string): string | undefined {
  const problem = unixPathProblem(value);
  if (problem !== undefined) return problem;
  const path = normalize(value);
  if (path === '/') return 'is the root directory';
  const system = SYSTEM_DIRECTORIES.find((dir) => path === dir || path.startsWith(`${dir}/`));
  if (system !== undefined) return `is inside the system directory ${system}`;
  return undefined;
}

/** Drops repeated and trailing slashes: `/a//b/` becomes `/a/b`. */
export function normalize(path: string): string {
  const trimmed = path.replace(/\/+/g, '/').replace(/\/$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** Whether one of the two paths lies inside the other (or they are the same). */
export function pathsOverlap(a: string, b: string): boolean {
  const x = `${normalize(a)}/`;
  const y = `${normalize(b)}/`;
  return x.startsWith(y) || y.startsWith(x);
}
