import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostRunner, HostScript, RunningScript, ScriptExit } from './host-runner';

export interface LocalHostRunnerOptions {
  /**
   * How long a killed script has, after SIGTERM, to run its traps (undo a half-done mount, remove its
   * temporary files) before its process group gets SIGKILL.
   * @default 5000
   */
  killGraceMs?: number;
}

const DEFAULT_KILL_GRACE_MS = 5000;

/**
 * Runs scripts on this machine, as the SSM agent does: the text goes to a file that `sh` runs, in a
 * process group of its own so that a timeout or a cancel can stop everything the script started:
 * SIGTERM first, which the Snapflow documents trap to clean up, then SIGKILL for what is left.
 */
export class LocalHostRunner implements HostRunner {
  private readonly killGraceMs: number;

  constructor(options: LocalHostRunnerOptions = {}) {
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  }

  async start(script: HostScript): Promise<RunningScript> {
    const file = join(script.commandDirectory, 'script.sh');
    await writeFile(file, script.text, { mode: 0o700 });
    const child = spawn('sh', [file], {
      cwd: script.workingDirectory ?? script.commandDirectory,
      env: script.environment,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(script.stdout);
    child.stderr.pipe(script.stderr);
    let ended = false;
    let forceKill: NodeJS.Timeout | undefined;
    const exited = new Promise<ScriptExit>((resolve, reject) => {
      child.once('error', reject);
      // 'close' waits for the output pipes too, so output written just before exit is not lost.
      child.once('close', (exitCode, signal) => {
        ended = true;
        clearTimeout(forceKill);
        resolve({ exitCode, signal });
      });
    });
    const signalGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch (error) {
        // ESRCH: the group has already ended.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    };
    return {
      exited,
      kill: () => {
        if (ended || forceKill !== undefined) return;
        signalGroup('SIGTERM');
        forceKill = setTimeout(() => {
          if (!ended) signalGroup('SIGKILL');
        }, this.killGraceMs);
        forceKill.unref();
      },
    };
  }
}
