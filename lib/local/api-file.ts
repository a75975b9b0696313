import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ErrorNames, SnapflowError } from '../core/errors';

/** What `snapflow up` tells clients on this machine: where its API listens and the token it takes. */
export interface ApiFile {
  url: string;
  token: string;
  /** The process serving it. */
  pid: number;
}

/** The local-mode home: `$SNAPFLOW_HOME`, else `~/.snapflow`. */
export function defaultHome(env: Readonly<Record<string, string | undefined>>): string {
  const home = env.SNAPFLOW_HOME;
  return home === undefined || home === '' ? join(homedir(), '.snapflow') : home;
}

/** `<home>/api.json`. */
export function apiFilePath(home: string): string {
  return join(home, 'api.json');
}

/** Writes `<home>/api.json`, readable by the owner only (it holds the token), replacing any old one whole. */
export async function writeApiFile(home: string, content: ApiFile): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  const path = apiFilePath(home);
  await writeFile(`${path}.tmp`, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Removes `<home>/api.json`; nothing happens when it is not there. */
export async function removeApiFile(home: string): Promise<void> {
  await rm(apiFilePath(home), { force: true });
}

/**
 * Reads `<home>/api.json`.
 * @throws EngineUnavailableError when there is none (no `snapflow up` runs for this home);
 *   ValidationError when it is not what `up` writes
 */
export async function readApiFile(home: string): Promise<ApiFile> {
  const path = apiFilePath(home);
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    throw new SnapflowError(ErrorNames.EngineUnavailable, `no local API is running for ${home} (there is no ${path})`, {
      action:
        'Start one with `snapflow up` (add --home if it uses another home), or give --api and SNAPFLOW_API_TOKEN.',
    });
  });
  const content = parse(text);
  if (typeof content?.url !== 'string' || typeof content.token !== 'string') {
    throw new SnapflowError(ErrorNames.Validation, `${path} is not an API file written by snapflow up`, {
      action: 'Remove it and start `snapflow up` again.',
    });
  }
  return content as ApiFile;
}

function parse(text: string): Partial<Record<keyof ApiFile, unknown>> | undefined {
  try {
    return JSON.parse(text) as Partial<Record<keyof ApiFile, unknown>>;
  } catch {
    return undefined;
  }
}
