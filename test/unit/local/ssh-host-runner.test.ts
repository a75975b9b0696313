import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostAgent } from '../../../lib/local/host-agent';
import type { HostRunner, HostScript, RunningScript, ScriptExit } from '../../../lib/local/host-runner';
import { SshHostRunner, sshArguments } from '../../../lib/local/ssh-host-runner';
import { createTestHosts, type TestHost, type TestHosts } from '../../support/test-hosts';

/** Network namespaces and an sshd need root. */
const IS_ROOT = process.getuid?.() === 0;
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface Run {
  script: RunningScript;
  /** How the script ended, with everything it wrote. */
  result: Promise<{ exit: ScriptExit; stdout: string; stderr: string }>;
}

async function start(runner: HostRunner, text: string, extra: Partial<HostScript> = {}): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const collect = (stream: PassThrough) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    return new Promise<string>((resolve) => stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8'))));
  };
  const output = Promise.all([collect(stdout), collect(stderr)]);
  const script = await runner.start({
    text,
    commandDirectory: tmpdir(),
    environment: { PATH },
    stdout,
    stderr,
    ...extra,
  });
  return {
    script,
    result: (async () => {
      const exit = await script.exited;
      const [out, err] = await output;
      return { exit, stdout: out, stderr: err };
    })(),
  };
}

/** Whether `pid` is a live process; a zombie awaiting its reaper counts as gone. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The processes of `parent` running `command`, from /proc. */
function childrenRunning(parent: number, command: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return comm === command && ppid === parent;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.runIf(IS_ROOT)('SshHostRunner (needs root for network namespaces; runs when root)', () => {
  let hosts: TestHosts;
  let host: TestHost;
  let runner: SshHostRunner;
  let work: string;

  beforeAll(async () => {
    hosts = await createTestHosts(['remote']);
    host = hosts.host('remote');
    runner = new SshHostRunner(host.connection);
    work = await mkdtemp(join(host.root, 'work-'));
  });

  afterAll(async () => {
    await hosts?.cleanup();
  });

  /**
   * Starts a script that records its own pid and a background child's, then waits; resolves once both
   * are recorded and running.
   */
  async function startLongScript(name: string): Promise<Run & { pids: number[] }> {
    const pidFile = join(work, `${name}.pids`);
    const run = await start(
      runner,
      `echo $$ > ${pidFile}.tmp\nsleep 300 &\necho $! >> ${pidFile}.tmp\nmv ${pidFile}.tmp ${pidFile}\nwait\n`,
    );
    await eventually(() => existsSync(pidFile), 'the script has started');
    const pids = (await readFile(pidFile, 'utf8')).trim().split('\n').map(Number);
    expect(pids.every(isRunning)).toBe(true);
    return { ...run, pids };
  }

  async function expectGoneFromHost(pids: number[]): Promise<void> {
    await eventually(() => pids.every((pid) => !isRunning(pid)), `processes ${pids.join(', ')} have ended`);
    const left = await host.pids();
    expect(left.filter((pid) => pids.includes(pid))).toEqual([]);
  }

  it('runs the script on the host, with only the environment it is given', async () => {
    const run = await start(runner, 'ip -4 -o address show dev eth0\nenv\n', {
      environment: { PATH, AWS_SSM_INSTANCE_ID: 'remote' },
    });
    const { exit, stdout, stderr } = await run.result;
    expect(stderr).toBe('');
    expect(exit).toEqual({ exitCode: 0, signal: null });
    expect(stdout).toContain(`inet ${host.address}/24`);
    const names = stdout
      .split('\n')
      .slice(1)
      .filter((line) => /^[A-Za-z_]+=/.test(line))
      .map((line) => line.slice(0, line.indexOf('=')));
    // The shell adds PWD; nothing of the SSH session (SSH_CONNECTION, USER, MAIL…) reaches the script.
    expect(names.filter((name) => name !== 'PWD').sort()).toEqual(['AWS_SSM_INSTANCE_ID', 'PATH']);
  });

  it("reports a failing script's exit code, stdout and stderr apart", async () => {
    const run = await start(runner, 'echo out\necho boom >&2\nexit 7\n');
    expect(await run.result).toEqual({ exit: { exitCode: 7, signal: null }, stdout: 'out\n', stderr: 'boom\n' });
  });

  it('delivers the script, its environment and working directory intact, whatever they hold', async () => {
    const tricky = `it's "quoted" $HOME \`id\` \\ back\nslash; & | * ? ~ é 日本\r\n'' "" end`;
    const payload = Array.from({ length: 3000 }, (_, index) => `${index}: ${tricky}`).join('\n');
    const directory = join(work, "it's a dir");
    await mkdir(directory);
    const run = await start(
      runner,
      `pwd\nprintf '%s' "$TRICKY"\necho\ncat <<'SNAPFLOW_END'\n${payload}\nSNAPFLOW_END\n`,
      {
        environment: { PATH, TRICKY: tricky },
        workingDirectory: directory,
      },
    );
    const { exit, stdout, stderr } = await run.result;
    expect(stderr).toBe('');
    expect(exit).toEqual({ exitCode: 0, signal: null });
    expect(stdout).toBe(`${directory}\n${tricky}\n${payload}\n`);
    expect(Buffer.byteLength(payload)).toBeGreaterThan(200_000);
  });

  it('fails with a message when the working directory is missing', async () => {
    const run = await start(runner, 'echo ran\n', { workingDirectory: join(work, 'missing') });
    const { exit, stdout, stderr } = await run.result;
    expect(exit.exitCode).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('missing');
  });

  it('ends when the script exits, leaving background processes that let go of its output', async () => {
    const pidFile = join(work, 'background.pid');
    const startedAt = Date.now();
    const run = await start(runner, `sleep 300 > /dev/null 2>&1 &\necho $! > ${pidFile}\n`);
    expect((await run.result).exit).toEqual({ exitCode: 0, signal: null });
    expect(Date.now() - startedAt).toBeLessThan(2000);
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(isRunning(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
  });

  it('kill stops the script and everything it started on the host', async () => {
    const run = await startLongScript('kill');
    const killedAt = Date.now();
    run.script.kill();
    const { exit } = await run.result;
    expect(exit).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(Date.now() - killedAt).toBeLessThan(2000);
    await expectGoneFromHost(run.pids);
    run.script.kill();
  });

  it('a connection lost on either side stops the script on the host', async () => {
    const onHost = await startLongScript('lost-at-host');
    const sessions = [];
    for (const pid of await host.pids()) {
      const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (command.startsWith('sshd: root@notty')) sessions.push(pid);
    }
    expect(sessions).toHaveLength(1);
    process.kill(sessions[0] as number, 'SIGKILL');
    expect((await onHost.result).exit).toEqual({ exitCode: 255, signal: null });
    await expectGoneFromHost(onHost.pids);

    // The agent's side crashing looks the same to the host: ssh dies and the connection closes.
    const onAgent = await startLongScript('lost-at-agent');
    const clients = childrenRunning(process.pid, 'ssh');
    expect(clients).toHaveLength(1);
    process.kill(clients[0] as number, 'SIGKILL');
    expect((await onAgent.result).exit).toEqual({ exitCode: null, signal: 'SIGKILL' });
    await expectGoneFromHost(onAgent.pids);
  });

  it("times out through the host agent as a local script does, and the host's process is gone", async () => {
    const pidFile = join(work, 'timeout.pid');
    const logDirectory = await mkdtemp(join(tmpdir(), 'snapflow-ssh-agent-'));
    const agent = new HostAgent({
      documents: {
        Sleep: {
          name: 'Sleep',
          content: {
            schemaVersion: '2.2',
            mainSteps: [
              {
                action: 'aws:runShellScript',
                name: 'sleep',
                inputs: { timeoutSeconds: 1, runCommand: [`echo $$ > ${pidFile}`, 'sleep 300'] },
              },
            ],
          },
        },
      },
      hosts: { [host.name]: runner },
      logDirectory,
      pollWaitMs: 200,
    });
    try {
      const { Command } = await agent.sendCommand({ DocumentName: 'Sleep', InstanceIds: [host.name] });
      const invocation = await agent.waitForCommand(Command.CommandId, host.name);
      expect(invocation.Status).toBe('TimedOut');
      expect(invocation.ResponseCode).toBe(-1);
      await expectGoneFromHost([Number(await readFile(pidFile, 'utf8'))]);
    } finally {
      await agent.close();
      await rm(logDirectory, { recursive: true, force: true });
    }
  });

  it('refuses a host whose key is not the known one', async () => {
    // A valid key, but not the host's: the host's own client key.
    const wrongKey = (await readFile(`${host.identityFile}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    const knownHostsFile = join(work, 'wrong_known_hosts');
    await writeFile(knownHostsFile, `${host.address} ${wrongKey}\n`);
    const run = await start(new SshHostRunner({ ...host.connection, knownHostsFile }), `touch ${work}/ran\n`);
    const { exit, stderr } = await run.result;
    expect(exit).toEqual({ exitCode: 255, signal: null });
    expect(stderr).toContain('Host key verification failed');
    expect(existsSync(join(work, 'ran'))).toBe(false);
  });

  it('refuses connection fields that ssh could misread, and variable names a shell cannot take', async () => {
    const connection = host.connection;
    for (const wrong of [
      { address: '-oProxyCommand=touch /tmp/x' },
      { address: 'host name' },
      { port: 0 },
      { port: 65536 },
      { user: 'root -v' },
      { identityFile: 'relative/key' },
      { identityFile: '/keys/%h' },
      { knownHostsFile: '/a b' },
    ]) {
      expect(() => new SshHostRunner({ ...connection, ...wrong }), JSON.stringify(wrong)).toThrow(/^SSH /);
    }
    expect(sshArguments(connection).slice(-3)).toEqual(['root', '--', host.address]);
    await expect(start(runner, 'true\n', { environment: { 'A;B': 'x' } })).rejects.toThrow(/not valid/);
  });
});
