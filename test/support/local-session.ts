import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountPointsBelow } from '../../lib/adapters/mount-table';
import type { LocalWorkflows, WorkflowRun } from '../../lib/local/local-workflows';
import { type LocalMode, type LocalModeOptions, startLocalMode } from '../../lib/local/start-local-mode';

/** Mount points at or below a directory, from the kernel's mount table (the e2e tests' clean-up uses it). */
export { mountPointsBelow };

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
