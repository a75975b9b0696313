import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalWorkflows, WorkflowRun } from '../../lib/local/local-workflows';
import { type LocalMode, type LocalModeOptions, startLocalMode } from '../../lib/local/start-local-mode';

/** Local mode in a temporary directory of its own, for e2e tests. */
export interface LocalSession {
  local: LocalMode;
  /** The session's directory: sources, mount points and the engine all live below it. */
  work: string;
  /** Runs a workflow and returns how it ended (never throws for a failed execution). */
  run(workflow: string, input: Parameters<LocalWorkflows['run']>[1]): Promise<WorkflowRun>;
  /** Mount points below {@link work}, other than the engine's own pool. */
  mounts(): Promise<string[]>;
  /** Unmounts what the session mounted, stops the engine and removes the directory. */
  close(): Promise<void>;
}

/** @param options what to change of local mode's defaults, e.g. a host runner that fails on purpose */
export async function startLocalSession(options: Pick<LocalModeOptions, 'wrapHostRunner'> = {}): Promise<LocalSession> {
  const work = await mkdtemp(join(tmpdir(), 'snapflow-e2e-'));
  const home = join(work, 'home');
  await mkdir(join(work, 'mnt'));
  const local = await startLocalMode({ ...options, home, backend: 'auto' }).catch(async (error: unknown) => {
    await rm(work, { recursive: true, force: true });
    throw error;
  });
  const mounts = async () => (await mountPointsBelow(work)).filter((path) => !path.startsWith(`${home}/`));
  return {
    local,
    work,
    run: (workflow, input) => local.workflows.run(workflow, input),
    mounts,
    async close() {
      try {
        // Deepest first, so nested mounts come off before their parents.
        await local.unmountAll((await mounts()).sort().reverse());
      } finally {
        await local.close({ keepStorage: false });
        await rm(work, { recursive: true, force: true });
      }
    },
  };
}

/** Mount points at or below `directory`, from the kernel's mount table. */
export async function mountPointsBelow(directory: string): Promise<string[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  return table
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    .map((field) =>
      field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))),
    )
    .filter((path) => path === directory || path.startsWith(`${directory}/`));
}
