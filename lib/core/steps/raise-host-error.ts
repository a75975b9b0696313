import { type ErrorName, ErrorNames, isErrorName, SnapflowError } from '../errors';
import type { DocumentKind } from '../host-plan';

/** The fields of SSM's GetCommandInvocation answer that tell how a host command ended. */
export interface CommandInvocation {
  Status: string;
  ResponseCode?: number;
  StandardOutputContent?: string;
  StandardErrorContent?: string;
}

/** A host command that did not succeed, as the Run Command fragment hands it over. */
export interface HostCommandFailure {
  document: DocumentKind;
  hostId: string;
  invocation: CommandInvocation;
  /**
   * The request field each document parameter came from (`{ MountPath: 'virtualSource.mountLocation' }`),
   * so that a message about a parameter names what the user wrote.
   */
  fields?: Record<string, string>;
}

/** Host scripts report a failure as this stderr line: `snapflow-error: <ErrorName>: <message>`. */
const ERROR_LINE = /^snapflow-error: ([A-Za-z]+): (.*)$/;
const TAIL_LINES = 20;
const TAIL_CHARS = 4000;

const ACTIONS: Partial<Record<ErrorName, string>> = {
  MountPointNotEmptyError: 'Choose an absent or empty directory as the mount location, or empty it first.',
  MountPointBusyError:
    'Something else is mounted there or still uses it: unmount it (see `findmnt` and `fuser -vm` on the host) or choose another location.',
  MountPointMissingError:
    'The dataset was not mounted where the copy expected it; run the sync again, which mounts first.',
  CopyFailedError:
    'Check that the staging host reaches the source host over SSH with key authentication as the configured user, and that the source path exists; rsync exit codes are listed in rsync(1).',
  SourceUnreachableError:
    'The workflow tried the copy again, and the source host still could not be reached: check that it is up, that its sshd runs, and that the staging host can reach its address; then sync again. The earlier snapshots are unchanged.',
  StorageFullError:
    'The copy stopped when the storage pool filled up, and no snapshot was taken: free space (delete snapshots or VDBs no longer needed, or exclude large files) or grow the pool, then sync again.',
  ParameterRejectedError: 'Correct the value named in the message.',
  HostCommandTimedOutError:
    'Check that the host is online (its SSM agent, or its sshd in local mode); if the command needs longer (a large first copy), raise the copy timeout (`snapflow up --copy-timeout SECONDS` locally, the context value snapflow:copyTimeoutSeconds on AWS).',
};
const DEFAULT_ACTION =
  'Read the command output below, or the full output in the Run Command log group, and fix the cause on the host.';

/**
 * Turns a failed host command into the named error its script reported, so that the workflow's Catch
 * and the user see e.g. MountPointNotEmptyError rather than "command failed". A script reports with
 * the last `snapflow-error:` line on stderr; without one, or with a name Snapflow does not know, the
 * error is HostCommandFailedError, and a command SSM stopped for taking too long is
 * HostCommandTimedOutError.
 *
 * @throws always a {@link SnapflowError} carrying the tail of the command's output
 */
export async function raiseHostError(input: HostCommandFailure): Promise<never> {
  const { document, hostId, invocation } = input;
  const stderr = invocation.StandardErrorContent ?? '';
  const output = tail(stderr.trim() === '' ? (invocation.StandardOutputContent ?? '') : stderr);
  const fail = (name: ErrorName, message: string, field?: string): never => {
    throw new SnapflowError(name, message, {
      action: ACTIONS[name] ?? DEFAULT_ACTION,
      ...(field === undefined ? {} : { field }),
      ...(output === '' ? {} : { output }),
    });
  };

  if (invocation.Status === 'TimedOut') {
    return fail(ErrorNames.HostCommandTimedOut, `The ${document} command on host ${hostId} timed out`);
  }
  const reported = stderr
    .split('\n')
    .map((line) => ERROR_LINE.exec(line.trimEnd()))
    .findLast((match) => match !== null);
  const [, name = '', message = ''] = reported ?? [];
  if (isErrorName(name)) {
    const [first = '', ...rest] = message.split(' ');
    const field = input.fields?.[first];
    const said = field === undefined ? message : [field, ...rest].join(' ');
    return fail(name, `${said} (host ${hostId})`, field);
  }
  const code = invocation.ResponseCode === undefined ? '' : ` with exit code ${invocation.ResponseCode}`;
  const said = message === '' ? '' : `: ${name}: ${message}`;
  return fail(
    ErrorNames.HostCommandFailed,
    `The ${document} command on host ${hostId} ended ${invocation.Status}${code}${said}`,
  );
}

function tail(text: string): string {
  return text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n').slice(-TAIL_CHARS);
}
