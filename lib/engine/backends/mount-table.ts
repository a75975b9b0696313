import { readFile } from 'node:fs/promises';

/** One line of `/proc/self/mountinfo`, reduced to what the engine checks. */
export interface MountEntry {
  mountPoint: string;
  fsType: string;
  /** The mounted device, e.g. `/dev/loop3`. */
  source: string;
}

/**
 * Parses `/proc/self/mountinfo` (see proc(5)): optional fields end at a lone `-`, and paths escape
 * space, tab, newline and backslash as octal (`\040`).
 */
export function parseMountInfo(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      const fields = line.split(' ');
      const separator = fields.indexOf('-', 6);
      const mountPoint = fields[4];
      const fsType = fields[separator + 1];
      const source = fields[separator + 2];
      if (separator < 0 || mountPoint === undefined || fsType === undefined || source === undefined) return [];
      return [{ mountPoint: unescapeOctal(mountPoint), fsType, source: unescapeOctal(source) }];
    });
}

/** The mount at exactly `mountPoint` (the topmost, if several are stacked), or undefined. */
export async function findMount(mountPoint: string): Promise<MountEntry | undefined> {
  const entries = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  return entries.filter((entry) => entry.mountPoint === mountPoint).at(-1);
}

function unescapeOctal(value: string): string {
  return value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}
