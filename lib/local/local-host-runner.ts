import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostRunner, HostScript, RunningScript, ScriptExit } from './host-runner';

/**
 * Runs scripts on this machine, as the SSM agent does: the text goes to a file that `sh` runs, in a
 * process group of its own so that a timeout or a cancel can kill everything the script started.
 */
export class LocalHostRunner implements HostRunner {
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
    const exited = new Promise<ScriptExit>((resolve, reject) => {
      child.once('error', reject);
      // 'close' waits for the output pipes too, so output written just before exit is not lost.
      child.once('close', (exitCode, signal) => resolve({ exitCode, signal }));
    });
    return {
      exited,
      kill: () => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch (error) {
          // ESRCH: the group has already ended.
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      },
    };
  }
}
