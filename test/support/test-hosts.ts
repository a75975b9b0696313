import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshConnection } from '../../lib/local/ssh-host-runner';

/** One test host: a network namespace of its own, with an address and an sshd. */
export interface TestHost {
  readonly name: string;
  /** The network namespace, as `ip netns list` shows it. */
  readonly namespace: string;
  /** The host's only address; its sshd listens there, on port 22, and nowhere else. */
  readonly address: string;
  /**
   * The host's own directory. Hosts share this machine's filesystem (they differ only in their network),
   * so by convention each keeps its data below its own directory.
   */
  readonly root: string;
  /** How the root network namespace (and any other host) reaches this host as root, host key verified. */
  readonly connection: SshConnection;
  /** The host's own key for SSH to the other hosts. */
  readonly identityFile: string;
  /** ssh_config for SSH from this host to the others (`ssh -F`): its own key, host keys verified, no prompt. */
  readonly sshConfigFile: string;
  /** The sshd's log: connections accepted, with the address they came from. */
  readonly sshdLogFile: string;
  /** The pid of the sshd started last. */
  readonly sshdPid: number;
  /** Starts the host's sshd again, after a test killed it; resolves once it listens. */
  startSshd(): Promise<void>;
  /** Runs a command in the host's network namespace, directly rather than over SSH. */
  run(command: readonly string[]): Promise<CommandResult>;
  /** Every process in the host's network namespace. */
  pids(): Promise<number[]>;
}

/** Hosts made by {@link createTestHosts}, and what was created for them. */
export interface TestHosts {
  readonly hosts: readonly TestHost[];
  /** @throws Error for a name that was not asked for. */
  host(name: string): TestHost;
  /** The temporary directory holding every host's directory, keys and sshd files. */
  readonly directory: string;
  /** The host keys of all hosts, by address. */
  readonly knownHostsFile: string;
  /** Every network namespace created, the switch's included. */
  readonly namespaces: readonly string[];
  /** The links created in the root network namespace. */
  readonly links: readonly string[];
  /**
   * Kills every process in the hosts' namespaces, deletes the namespaces and links, and removes the
   * directory; safe to call again. If the test process ends without calling it, or dies, a reaper
   * process of its own does the same.
   */
  cleanup(): Promise<void>;
}

export interface TestHostsOptions {
  /** @default '/usr/sbin/sshd' */
  sshd?: string;
}

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `ip`, `nsenter` and sshd live in sbin, which a non-login root shell may lack. */
const TOOL_ENVIRONMENT = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };
const HOST_NAME = /^[a-z][a-z0-9]{0,11}$/;
const SSHD_START_TIMEOUT_MS = 5000;
/** The directory sshd's privilege separation chroots into; sshd refuses to start without it. */
const PRIVILEGE_SEPARATION_DIRECTORY = '/run/sshd';

/**
 * Runs outside the test process and removes what it is told was created, once its stdin ends: when
 * {@link Reaper.remove} ends it, or when the test process goes in any way (a failed test without an
 * afterAll, a worker the test runner kills, SIGKILL), since the kernel then closes the pipe too. Each
 * line it reads is `namespace|link|directory <name>`; the names are Snapflow's own (letters, digits, -).
 */
const REAPER = `trap '' PIPE HUP INT TERM
namespaces=''
links=''
directory=''
while read -r kind name; do
  case "$kind" in
    namespace) namespaces="$namespaces $name" ;;
    link) links="$links $name" ;;
    directory) directory=$name ;;
  esac
done
status=0
pids() { for namespace in $namespaces; do ip netns pids "$namespace"; done; }
# A namespace's sshd sessions outlive its sshd: every process in the namespaces goes first.
tries=0
while [ -n "$(pids)" ]; do
  if [ "$tries" -ge 250 ]; then
    echo "processes $(pids | tr '\\n' ' ')did not end" >&2
    status=1
    break
  fi
  for pid in $(pids); do kill -KILL "$pid" 2> /dev/null; done
  sleep 0.02
  tries=$((tries + 1))
done
# Links before namespaces: the kernel removes a deleted namespace's links only some time later.
for link in $links; do ip link delete dev "$link" || status=1; done
for namespace in $namespaces; do ip netns delete "$namespace" || status=1; done
if [ -n "$directory" ]; then rm -rf -- "$directory" || status=1; fi
exit "$status"
`;

/** Removes what one {@link createTestHosts} call created, whether or not the test process is still there. */
class Reaper {
  private readonly child: ChildProcess;
  private readonly stdin: Socket;
  private readonly stderr: Socket;
  private readonly done: Promise<void>;

  constructor() {
    this.child = spawn('sh', ['-c', REAPER, 'snapflow-test-hosts-reaper'], {
      // A process group of its own, so that a Ctrl-C to the test run leaves it to do its work.
      detached: true,
      env: TOOL_ENVIRONMENT,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.stdin = this.child.stdin as Socket;
    this.stderr = this.child.stderr as Socket;
    this.stdin.on('error', () => undefined);
    let stderr = '';
    this.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    this.done = new Promise<void>((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`Test hosts could not be removed entirely (${signal ?? code}): ${stderr.trim()}`));
      });
    });
    // Reported by remove(); until then a failure must not count as unhandled.
    this.done.catch(() => undefined);
    // The test process may exit with the reaper waiting: its exit is what sets the reaper to work.
    this.child.unref();
    this.stdin.unref();
    this.stderr.unref();
  }

  /** Records something just created, for removal. */
  record(kind: 'namespace' | 'link' | 'directory', name: string): void {
    this.stdin.write(`${kind} ${name}\n`);
  }

  /** Removes everything recorded and settles when it is gone; safe to call again. */
  remove(): Promise<void> {
    this.child.ref();
    this.stderr.ref();
    this.stdin.end();
    return this.done;
  }
}

/** What one call created, recorded as it is created so that a failure halfway can undo it. */
interface Created {
  reaper: Reaper;
  namespaces: string[];
  links: string[];
  /** Settle when each sshd has exited and been reaped. */
  sshdExits: Promise<void>[];
}

/**
 * Creates test hosts on this machine: each a network namespace joined to a private switch (a bridge in
 * a namespace of its own) with an address in a /24 of 10.200.0.0/16 that nothing else here uses, and
 * an sshd listening only on that address with a host key of its own. The root namespace gets one
 * link into the switch, so tests reach every host, and hosts reach one another; nothing reaches beyond.
 * All names carry a random suffix, so parallel or leftover runs never collide, and only what this call
 * created is ever removed. A failure halfway removes what was created before it rethrows, and a
 * reaper process removes everything should the test process end without {@link TestHosts.cleanup}.
 *
 * sshd runs with `nsenter --net` rather than `ip netns exec`, which would also give it a private mount
 * namespace: a host's mounts (the mount document's) must be visible to the engine and the tests.
 *
 * @param names host names, lowercase letters and digits (e.g. `['source', 'staging', 'target']`)
 */
export async function createTestHosts(names: readonly string[], options: TestHostsOptions = {}): Promise<TestHosts> {
  for (const name of names) {
    if (!HOST_NAME.test(name)) throw new Error(`Test host name ${JSON.stringify(name)} must match ${HOST_NAME}`);
  }
  if (names.length === 0 || names.length > 200 || new Set(names).size !== names.length)
    throw new Error('Test host names must be 1 to 200 distinct names');
  const created: Created = { reaper: new Reaper(), namespaces: [], links: [], sshdExits: [] };
  try {
    return await create(names, options.sshd ?? '/usr/sbin/sshd', created);
  } catch (error) {
    try {
      await remove(created);
    } catch (cleanupError) {
      throw new AggregateError([error, cleanupError], 'Creating test hosts failed, and so did removing them');
    }
    throw error;
  }
}

async function create(names: readonly string[], sshd: string, created: Created): Promise<TestHosts> {
  const directory = await mkdtemp(join(tmpdir(), 'snapflow-hosts-'));
  created.reaper.record('directory', directory);
  // The package's service creates this at boot; a machine that never started it (a container) lacks it.
  // It is left in place: it is the system's, and another sshd may be using it.
  mkdirSync(PRIVILEGE_SEPARATION_DIRECTORY, { recursive: true, mode: 0o755 });

  const knownHostsFile = join(directory, 'known_hosts');
  const authorizedKeysFile = join(directory, 'authorized_keys');
  const controllerKey = join(directory, 'controller', 'id_ed25519');
  const subnet = await freeSubnet();
  const suffix = randomBytes(3).toString('hex');
  const switchNamespace = `snapflow-${suffix}-switch`;
  const rootLink = `snapflow${suffix}`;

  const plans = names.map((name, index) => {
    const hostDirectory = join(directory, name);
    return {
      name,
      namespace: `snapflow-${suffix}-${name}`,
      switchPort: `port${index}`,
      address: `${subnet}.${10 + index}`,
      root: join(hostDirectory, 'root'),
      hostKey: join(hostDirectory, 'sshd', 'ssh_host_ed25519_key'),
      sshdConfigFile: join(hostDirectory, 'sshd', 'sshd_config'),
      sshdLogFile: join(hostDirectory, 'sshd', 'sshd.log'),
      identityFile: join(hostDirectory, 'ssh', 'id_ed25519'),
      sshConfigFile: join(hostDirectory, 'ssh', 'config'),
    };
  });

  for (const plan of plans) {
    for (const sub of ['root', 'sshd', 'ssh']) await mkdir(join(directory, plan.name, sub), { recursive: true });
  }
  await mkdir(join(directory, 'controller'));
  await Promise.all([
    generateKey(controllerKey, 'controller'),
    ...plans.flatMap((plan) => [generateKey(plan.hostKey, plan.name), generateKey(plan.identityFile, plan.name)]),
  ]);

  // The switch: a bridge in a namespace of its own, out of reach of the root namespace's firewall.
  await ip(['netns', 'add', switchNamespace]);
  record(created, 'namespace', switchNamespace);
  await ip(['-n', switchNamespace, 'link', 'add', 'switch', 'type', 'bridge']);
  await ip(['-n', switchNamespace, 'link', 'set', 'switch', 'up']);
  await ip(['link', 'add', rootLink, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', switchNamespace]);
  record(created, 'link', rootLink);
  await ip(['-n', switchNamespace, 'link', 'set', 'uplink', 'master', 'switch', 'up']);
  await ip(['address', 'add', `${subnet}.1/24`, 'dev', rootLink]);
  await ip(['link', 'set', rootLink, 'up']);

  for (const plan of plans) {
    await ip(['netns', 'add', plan.namespace]);
    record(created, 'namespace', plan.namespace);
    await ip(['-n', plan.namespace, 'link', 'set', 'lo', 'up']);
    await ip(['-n', plan.namespace, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', plan.switchPort]);
    await ip(['-n', plan.namespace, 'link', 'set', plan.switchPort, 'netns', switchNamespace]);
    await ip(['-n', switchNamespace, 'link', 'set', plan.switchPort, 'master', 'switch', 'up']);
    await ip(['-n', plan.namespace, 'address', 'add', `${plan.address}/24`, 'dev', 'eth0']);
    await ip(['-n', plan.namespace, 'link', 'set', 'eth0', 'up']);
  }

  const publicKey = async (file: string) => (await readFile(`${file}.pub`, 'utf8')).trim();
  const clientKeys = await Promise.all([controllerKey, ...plans.map((plan) => plan.identityFile)].map(publicKey));
  await writeFile(authorizedKeysFile, `${clientKeys.join('\n')}\n`, { mode: 0o600 });
  const knownHosts = await Promise.all(
    plans.map(async (plan) => `${plan.address} ${(await publicKey(plan.hostKey)).split(' ').slice(0, 2).join(' ')}`),
  );
  await writeFile(knownHostsFile, `${knownHosts.join('\n')}\n`);
  for (const plan of plans) {
    await writeFile(
      plan.sshdConfigFile,
      sshdConfig({ ...plan, authorizedKeysFile, pidFile: join(directory, plan.name, 'sshd', 'sshd.pid') }),
    );
    await writeFile(plan.sshConfigFile, clientConfig(plan.identityFile, knownHostsFile));
  }

  const pids = await Promise.all(
    plans.map((plan) => startSshd(sshd, plan.namespace, plan.sshdConfigFile, plan.sshdLogFile, plan.address, created)),
  );

  const hosts: TestHost[] = plans.map((plan, index) => {
    let sshdPid = pids[index] as number;
    return {
      name: plan.name,
      namespace: plan.namespace,
      address: plan.address,
      root: plan.root,
      connection: { address: plan.address, port: 22, user: 'root', identityFile: controllerKey, knownHostsFile },
      identityFile: plan.identityFile,
      sshConfigFile: plan.sshConfigFile,
      sshdLogFile: plan.sshdLogFile,
      get sshdPid() {
        return sshdPid;
      },
      async startSshd() {
        sshdPid = await startSshd(sshd, plan.namespace, plan.sshdConfigFile, plan.sshdLogFile, plan.address, created);
      },
      run: (command) => runCommand('nsenter', [`--net=/run/netns/${plan.namespace}`, '--', ...command]),
      pids: () => namespacePids(plan.namespace),
    };
  });
  return {
    hosts,
    host(name) {
      const found = hosts.find((host) => host.name === name);
      if (found === undefined) throw new Error(`No test host ${name}; the hosts are ${names.join(', ')}`);
      return found;
    },
    directory,
    knownHostsFile,
    namespaces: [...created.namespaces],
    links: [...created.links],
    cleanup: () => remove(created),
  };
}

function record(created: Created, kind: 'namespace' | 'link', name: string): void {
  (kind === 'namespace' ? created.namespaces : created.links).push(name);
  created.reaper.record(kind, name);
}

/** Removes what one call created and waits until its sshds are reaped, not just killed, so no zombie is left. */
async function remove(created: Created): Promise<void> {
  try {
    await created.reaper.remove();
  } finally {
    await Promise.all(created.sshdExits);
  }
}

/**
 * The first three octets of a /24 in 10.200.0.0/16 that no address or route of the root namespace
 * overlaps. Routes broader than a /16 (a VPN's 10.0.0.0/8) do not count: the /24 is more specific.
 */
async function freeSubnet(): Promise<string> {
  const text = (await Promise.all(['address', 'route'].map((object) => ip(['-4', '-o', object, 'show'])))).join('\n');
  // Each address or route counts as itself (a /32) and as the prefix it names.
  const taken = [...text.matchAll(/(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?/g)]
    .flatMap((match) => {
      const octets = match.slice(1, 5).map(Number);
      return [
        { octets, length: 32 },
        { octets, length: Number(match[5] ?? 32) },
      ];
    })
    .filter(({ length }) => length >= 16);
  for (let attempt = 0; attempt < 64; attempt++) {
    const third = randomInt(256);
    const overlaps = taken.some(({ octets, length }) => {
      const [a, b, c] = octets;
      return a === 10 && b === 200 && (length < 24 || c === third);
    });
    if (!overlaps) return `10.200.${third}`;
  }
  throw new Error('No free /24 in 10.200.0.0/16 for test hosts: addresses or routes of this machine cover it');
}

function sshdConfig(settings: {
  address: string;
  hostKey: string;
  pidFile: string;
  authorizedKeysFile: string;
}): string {
  return `${[
    `ListenAddress ${settings.address}:22`,
    'AddressFamily inet',
    `HostKey ${settings.hostKey}`,
    `PidFile ${settings.pidFile}`,
    `AuthorizedKeysFile ${settings.authorizedKeysFile}`,
    'AllowUsers root',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // No PAM stack for a private sshd; StrictModes would refuse keys below the world-writable /tmp.
    'UsePAM no',
    'StrictModes no',
    'AllowTcpForwarding no',
    'AllowAgentForwarding no',
    'X11Forwarding no',
    'PermitTunnel no',
    'PrintMotd no',
    'UseDNS no',
    'LogLevel INFO',
  ].join('\n')}\n`;
}

function clientConfig(identityFile: string, knownHostsFile: string): string {
  return `${[
    'Host *',
    '  User root',
    `  IdentityFile ${identityFile}`,
    '  IdentitiesOnly yes',
    '  IdentityAgent none',
    `  UserKnownHostsFile ${knownHostsFile}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  UpdateHostKeys no',
    '  BatchMode yes',
  ].join('\n')}\n`;
}

/** Starts sshd in the namespace and waits until it listens; its pid is sshd's own (nsenter execs it). */
async function startSshd(
  sshd: string,
  namespace: string,
  configFile: string,
  logFile: string,
  address: string,
  created: Created,
): Promise<number> {
  // Only what this sshd logs counts: the file holds its predecessors' lines too.
  const logStart = statSync(logFile, { throwIfNoEntry: false })?.size ?? 0;
  // sshd's early errors, before it opens the log itself, go to the same file.
  const log = openSync(logFile, 'a');
  const child = spawn('nsenter', [`--net=/run/netns/${namespace}`, '--', sshd, '-D', '-f', configFile, '-E', logFile], {
    env: TOOL_ENVIRONMENT,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  created.sshdExits.push(
    new Promise((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve());
    }),
  );
  // The test process must be free to exit with sshd still running: the reaper then removes it.
  child.unref();
  const ended = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(error.message));
    child.once('exit', (code, signal) => resolve(`exited with ${signal ?? code}`));
  });
  const listening = `Server listening on ${address} port 22.`;
  const deadline = Date.now() + SSHD_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const outcome = await Promise.race([ended, delay(20)]);
    const log = (await readFile(logFile)).subarray(logStart).toString('utf8');
    if (log.includes(listening)) return child.pid as number;
    if (typeof outcome === 'string') throw new Error(`sshd in ${namespace} did not start (${outcome}): ${log.trim()}`);
  }
  throw new Error(`sshd in ${namespace} did not listen on ${address} within ${SSHD_START_TIMEOUT_MS} ms`);
}

async function generateKey(file: string, comment: string): Promise<void> {
  const result = await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  if (result.exitCode !== 0) throw new Error(`ssh-keygen for ${file} failed: ${result.stderr.trim()}`);
}

/** Runs `ip` and returns its output. */
async function ip(args: string[]): Promise<string> {
  const result = await runCommand('ip', args);
  if (result.exitCode !== 0) throw new Error(`ip ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

/** The processes whose network namespace is `namespace`. */
async function namespacePids(namespace: string): Promise<number[]> {
  return (await ip(['netns', 'pids', namespace]))
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

/** Runs a program with arguments (never a shell), with sbin on the PATH; never rejects for an exit code. */
export function runCommand(file: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: TOOL_ENVIRONMENT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr }));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
