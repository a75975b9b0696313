import { spawn } from 'node:child_process';
import type { SshAccess } from '../core/model';
import { SSH_FILE_PATTERN } from '../core/paths';
import { sshAccessSchema } from '../engine/api-schemas';
import type { HostRunner, HostScript, RunningScript, ScriptExit } from './host-runner';

/**
 * How to reach one host's sshd: an environment's {@link SshAccess}, port 22 unless given. The runner
 * reads no ssh_config, agent or default key: only these.
 */
export type SshConnection = Omit<SshAccess, 'port'> & { port?: number };

/** Where ssh is looked for: ssh gets no other variable of this process (no agent socket, no HOME). */
const SSH_PATH = '/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin';

/** How long the host has to stop a killed script before the connection itself is cut. */
const KILL_GRACE_MS = 5000;

/** What a script killed by SIGKILL exits with, as the supervisor's shell reports it. */
const KILLED_STATUS = 128 + 9;

const ADDRESS = new RegExp(sshAccessSchema.properties.address.pattern);
const USER = new RegExp(sshAccessSchema.properties.user.pattern);
const SSH_FILE = new RegExp(SSH_FILE_PATTERN);
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Runs on the host for every script, delivered as the first frame on ssh's stdin. It receives the
 * prologue (environment and working directory) and the script as two more frames, runs the script in
 * a session of its own with only that environment, and keeps reading stdin: end of file there means
 * the runner killed the script or the connection is gone, and either way the script's whole process
 * group is killed. So a kill stops the remote work even when the runner's side has crashed.
 */
const SUPERVISOR = `set -u
work=$(mktemp -d) || exit 255
trap 'rm -rf -- "$work"' EXIT
# Background jobs get /dev/null as stdin; fd 3 keeps the connection's for the receiver and the watcher.
exec 3<&0
receive() {
  IFS= read -r size <&3 && head -c "$size" <&3 > "$1" && [ "$(wc -c < "$1")" -eq "$size" ]
}
if ! receive "$work/prologue" || ! receive "$work/script"; then
  echo 'snapflow ssh runner: the script did not arrive whole' >&2
  exit 255
fi
# The script must neither read nor hold the connection's stdin: 3<&-.
setsid env -i sh -c '. "$1" && exec sh "$2"' sh "$work/prologue" "$work/script" < /dev/null 3<&- &
script=$!
# dash's kill takes no --: a negative pid after the signal names the process group.
setsid sh -c 'cat > /dev/null; kill -KILL "-$1" 2> /dev/null' sh "$script" <&3 3<&- > /dev/null 2>&1 &
watcher=$!
wait "$script"
status=$?
kill -KILL "-$watcher" 2> /dev/null
exit "$status"
`;

/**
 * The command ssh asks the host's login shell to run: it reads the supervisor (the first frame) and
 * hands it stdin. A constant, so that nothing of a script or its parameters is ever on the command line.
 */
const LOADER = `exec sh -c 'IFS= read -r size && program=$(head -c "$size") && exec sh -c "$program" snapflow-ssh-runner'`;

/**
 * Runs scripts on a remote host over SSH, key-based with the host key verified. The script travels on
 * ssh's stdin, never on its command line, and runs in a process group of its own on the host, as
 * `LocalHostRunner` runs it here. `kill` closes ssh's stdin, on which the host kills that group; if the
 * host does not end the command within a few seconds, the connection is cut, which ends it too.
 *
 * Scripts run in the user's home directory unless they give a working directory. Exit code 255 also
 * means that ssh itself failed (host unreachable, key refused); ssh's message is then on stderr.
 */
export class SshHostRunner implements HostRunner {
  private readonly arguments: string[];

  /** @throws Error naming the connection field that ssh could misread. */
  constructor(connection: SshConnection) {
    this.arguments = [...sshArguments(connection), LOADER];
  }

  /** Starts `script`; rejects for an environment variable name that a shell cannot take. */
  async start(script: HostScript): Promise<RunningScript> {
    const input = Buffer.concat([frame(SUPERVISOR), frame(prologue(script)), frame(script.text)]);
    const child = spawn('ssh', this.arguments, { env: { PATH: SSH_PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.pipe(script.stdout);
    child.stderr.pipe(script.stderr);
    // ssh may exit before it has read everything (a refused host key); that shows in its exit code.
    child.stdin.on('error', () => undefined);
    child.stdin.write(input);
    let killed = false;
    let grace: NodeJS.Timeout | undefined;
    const exited = new Promise<ScriptExit>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode, signal) => {
        clearTimeout(grace);
        const died = signal !== null || exitCode === KILLED_STATUS;
        resolve(killed && died ? { exitCode: null, signal: 'SIGKILL' } : { exitCode, signal });
      });
    });
    return {
      exited,
      kill: () => {
        if (killed || child.exitCode !== null || child.signalCode !== null) return;
        killed = true;
        child.stdin.end();
        grace = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      },
    };
  }
}

/**
 * The ssh arguments up to and including the destination, for the given connection only: no
 * ssh_config, agent or other key, no prompt, no terminal and no forwarding, and a host whose key is
 * not in the connection's known_hosts file is refused. Append the remote command.
 * @throws Error naming the connection field that ssh could misread.
 */
export function sshArguments(connection: SshConnection): string[] {
  const { address, port = 22, user, identityFile, knownHostsFile } = connection;
  if (!ADDRESS.test(address)) throw new Error(`SSH address ${JSON.stringify(address)} is not a host name or address`);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`SSH port ${port} is not a port number from 1 to 65535`);
  if (!USER.test(user)) throw new Error(`SSH user ${JSON.stringify(user)} is not a valid user name`);
  for (const [field, path] of Object.entries({ identityFile, knownHostsFile })) {
    // ssh expands %-tokens in both and splits UserKnownHostsFile at spaces, which the pattern refuses.
    if (!SSH_FILE.test(path))
      throw new Error(`SSH ${field} ${JSON.stringify(path)} must be an absolute path without spaces, quotes or %`);
  }
  return [
    '-F',
    '/dev/null',
    '-T',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'UpdateHostKeys=no',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'ClearAllForwardings=yes',
    '-o',
    'ConnectTimeout=10',
    // A host that stops answering ends the command within 30 s instead of hanging until the timeout.
    '-o',
    'ServerAliveInterval=10',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'LogLevel=ERROR',
    '-i',
    identityFile,
    '-p',
    String(port),
    '-l',
    user,
    '--',
    address,
  ];
}

/** One frame on ssh's stdin: the length in bytes on a line of its own, then the bytes. */
function frame(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length}\n`), bytes]);
}

/**
 * The lines the host sources before the script: the script's environment and working directory. Both
 * come from the host agent, not from a document's parameters; each value is one single-quoted word.
 */
function prologue(script: HostScript): string {
  const lines = Object.entries(script.environment).map(([name, value]) => {
    if (!VARIABLE_NAME.test(name)) throw new Error(`Environment variable name ${JSON.stringify(name)} is not valid`);
    return `export ${name}=${singleQuoted(value)}`;
  });
  if (script.workingDirectory !== undefined) lines.push(`cd -- ${singleQuoted(script.workingDirectory)}`);
  return `${lines.join('\n')}\n`;
}

function singleQuoted(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
