import type { Writable } from 'node:stream';

/** A shell script for a host, with its parameters already substituted by the host agent. */
export interface HostScript {
  /** The script text, run by `sh`. */
  text: string;
  /** A private directory on this machine for the command (the runner may keep the script file there). */
  commandDirectory: string;
  /** Where the script runs on the host; the runner's default when absent. */
  workingDirectory?: string;
  /** The script's whole environment: nothing else of the agent's process leaks into it. */
  environment: Record<string, string>;
  stdout: Writable;
  stderr: Writable;
}

/** How a script ended: its exit code, or the signal that killed it. */
export interface ScriptExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** A script started on a host. */
export interface RunningScript {
  /**
   * Settles when the script has exited and its output has closed. Like the SSM agent, a runner waits
   * for background processes that keep the output open (redirect theirs to let the script end).
   */
  readonly exited: Promise<ScriptExit>;
  /**
   * Stops the script and everything in its process group: a termination signal first, so that its
   * traps clean up, then a kill for whatever outlives a grace period. Safe to call after it has ended.
   */
  kill(): void;
}

/**
 * Runs shell scripts on one host: the port behind the host agent. `LocalHostRunner` runs them on
 * this machine; an SSH runner only needs to deliver the text and stream the output back.
 */
export interface HostRunner {
  /** Starts `script`; rejects when it cannot be started at all. */
  start(script: HostScript): Promise<RunningScript>;
}
