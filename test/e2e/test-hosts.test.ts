import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshHostRunner, sshArguments } from '../../lib/local/ssh-host-runner';
import { createTestHosts, runCommand, type TestHost, type TestHosts } from '../support/test-hosts';

/** The random suffix that every name one createTestHosts call gives carries. */
function suffixOf(namespace: string): string {
  const suffix = /snapflow-([0-9a-f]{6})-/.exec(namespace)?.[1];
  if (suffix === undefined) throw new Error(`${namespace} is not a test host namespace`);
  return suffix;
}

/**
 * The namespaces and root-namespace links of one createTestHosts call that still exist, found by its
 * suffix, so that other runs on the machine do not count.
 */
async function leftovers(suffix: string): Promise<string[]> {
  const namespaces = (await runCommand('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((line) => line.split(' ')[0] as string)
    .filter((name) => name.startsWith(`snapflow-${suffix}-`));
  const links = [...(await runCommand('ip', ['-o', 'link', 'show'])).stdout.matchAll(/^\d+: ([^:@]+)/gm)]
    .map((match) => match[1] as string)
    .filter((name) => name === `snapflow${suffix}`);
  return [...namespaces, ...links];
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Live processes (zombies awaiting their reaper excluded) whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .filter((pid) => {
      try {
        const status = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (status.slice(status.lastIndexOf(')') + 2).startsWith('Z')) return false;
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Runs a script on `host` over SSH, as the host agent would. */
async function runOn(
  host: TestHost,
  text: string,
): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const script = await new SshHostRunner(host.connection).start({
    text,
    commandDirectory: tmpdir(),
    environment: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    stdout,
    stderr,
  });
  const { exitCode } = await script.exited;
  return { exitCode, stdout: out, stderr: err };
}

describe('test hosts: source, staging and target as network namespaces with an sshd each', () => {
  let hosts: TestHosts;
  let source: TestHost;
  let staging: TestHost;
  let target: TestHost;

  beforeAll(async () => {
    hosts = await createTestHosts(['source', 'staging', 'target']);
    source = hosts.host('source');
    staging = hosts.host('staging');
    target = hosts.host('target');
  });

  afterAll(async () => {
    await hosts?.cleanup();
  });

  it('gives each host a namespace, an address and an sshd of its own, reachable only at that address', async () => {
    expect(new Set(hosts.hosts.map((host) => host.namespace)).size).toBe(3);
    expect(new Set(hosts.hosts.map((host) => host.address)).size).toBe(3);
    for (const host of hosts.hosts) {
      const listening = await host.run(['ss', '-H', '-l', '-t', '-n']);
      expect(listening.stdout.trim().split(/\s+/)[3]).toBe(`${host.address}:22`);
      expect(listening.stdout.trim().split('\n')).toHaveLength(1);
      expect(await host.pids()).toContain(host.sshdPid);
      // Which host answered shows in its own address.
      const reply = await runCommand('ssh', [...sshArguments(host.connection), 'ip -4 -o address show dev eth0']);
      expect(reply.stderr).toBe('');
      expect(reply.exitCode).toBe(0);
      for (const other of hosts.hosts)
        expect(reply.stdout.includes(`inet ${other.address}/`)).toBe(other.name === host.name);
    }
  });

  it('refuses a host whose key is missing from known_hosts or not the one listed', async () => {
    const lines = (await readFile(hosts.knownHostsFile, 'utf8')).trim().split('\n');
    const keyOf = (host: TestHost) =>
      lines
        .find((line) => line.startsWith(`${host.address} `))
        ?.split(' ')
        .slice(1);
    const swapped = join(hosts.directory, 'swapped_known_hosts');
    await writeFile(swapped, `${source.address} ${keyOf(staging)?.join(' ')}\n`);
    const unknown = join(hosts.directory, 'empty_known_hosts');
    await writeFile(unknown, '');
    for (const knownHostsFile of [swapped, unknown]) {
      const reply = await runCommand('ssh', [...sshArguments({ ...source.connection, knownHostsFile }), 'true']);
      expect(reply.exitCode).toBe(255);
      expect(reply.stderr).toContain('Host key verification failed');
    }
  });

  it('lets staging pull a tree from source with rsync over SSH, host key verified', async () => {
    const tree = join(source.root, 'tree');
    await mkdir(join(tree, 'sub dir'), { recursive: true });
    await writeFile(join(tree, 'sub dir', 'data.txt'), 'from the source host\n');
    await writeFile(join(tree, 'secret'), 'mode 640\n');
    await chmod(join(tree, 'secret'), 0o640);
    await symlink('sub dir/data.txt', join(tree, 'link'));
    const copy = join(staging.root, 'copy');

    const pulled = await runOn(
      staging,
      `rsync -a -e 'ssh -F ${staging.sshConfigFile}' root@${source.address}:${tree}/ ${copy}/\n`,
    );
    expect(pulled.stderr).toBe('');
    expect(pulled.exitCode).toBe(0);
    expect(await readFile(join(copy, 'sub dir', 'data.txt'), 'utf8')).toBe('from the source host\n');
    expect((await stat(join(copy, 'secret'))).mode & 0o777).toBe(0o640);
    expect(await readFile(join(copy, 'link'), 'utf8')).toBe('from the source host\n');
    // The copy went over the network, from staging's address to source's sshd, with staging's own key.
    expect(await readFile(source.sshdLogFile, 'utf8')).toMatch(
      new RegExp(`Accepted publickey for root from ${staging.address.replaceAll('.', '\\.')} port \\d+ ssh2: ED25519`),
    );

    // Staging with target's key listed for source's address refuses to pull.
    const config = join(staging.root, 'wrong_config');
    const knownHosts = join(staging.root, 'wrong_known_hosts');
    const targetKey = (await readFile(hosts.knownHostsFile, 'utf8'))
      .split('\n')
      .find((line) => line.startsWith(`${target.address} `))
      ?.replace(target.address, source.address);
    await writeFile(knownHosts, `${targetKey}\n`);
    await writeFile(config, (await readFile(staging.sshConfigFile, 'utf8')).replace(hosts.knownHostsFile, knownHosts));
    const refused = await runOn(staging, `rsync -a -e 'ssh -F ${config}' root@${source.address}:${tree}/ ${copy}-2/\n`);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('Host key verification failed');
    expect(existsSync(`${copy}-2`)).toBe(false);
  });

  it('removes every namespace, link, process and directory it created', async () => {
    const sshdPids = hosts.hosts.map((host) => host.sshdPid);
    await hosts.cleanup();
    expect(await leftovers(suffixOf(source.namespace))).toEqual([]);
    for (const namespace of hosts.namespaces) expect(existsSync(`/run/netns/${namespace}`)).toBe(false);
    expect(existsSync(hosts.directory)).toBe(false);
    expect(processesMentioning(hosts.directory)).toEqual([]);
    for (const pid of sshdPids) expect(existsSync(`/proc/${pid}`)).toBe(false);
    await hosts.cleanup();
  });
});

describe('test hosts whose creation fails halfway', () => {
  it('removes what was created before the failure', async () => {
    // A name of its own, to find what this call (and no other run) might leave.
    const name = `h${randomBytes(4).toString('hex')}`;
    // The namespaces, links and keys exist by the time sshd fails to start.
    const error = await createTestHosts([name], { sshd: '/nonexistent/sshd' }).then(
      () => new Error('createTestHosts succeeded without an sshd'),
      (caught: Error) => caught,
    );
    expect(error.message).toMatch(new RegExp(`sshd in snapflow-[0-9a-f]{6}-${name} did not start`));
    expect(await leftovers(suffixOf(error.message))).toEqual([]);
    const directories = readdirSync(tmpdir()).filter((entry) => entry.startsWith('snapflow-hosts-'));
    expect(directories.filter((entry) => existsSync(join(tmpdir(), entry, name)))).toEqual([]);
    expect(processesMentioning('/nonexistent/sshd')).toEqual([]);
  });

  it('removes the hosts of a test process that dies without cleaning up', async () => {
    // A process of its own that creates hosts, reports them and is killed before it can clean up.
    const child = await runCommand(process.execPath, [
      '--import',
      'tsx',
      '--eval',
      `const { createTestHosts } = (await import(${JSON.stringify(join(__dirname, '..', 'support', 'test-hosts.ts'))})).default;
       const hosts = await createTestHosts(['one', 'two']);
       console.log(JSON.stringify({ namespaces: hosts.namespaces, directory: hosts.directory }));
       process.kill(process.pid, 'SIGKILL');`,
    ]);
    expect(child.signal).toBe('SIGKILL');
    const created = JSON.parse(child.stdout) as { namespaces: string[]; directory: string };
    expect(created.namespaces).toHaveLength(3);
    const suffix = suffixOf(created.namespaces[0] as string);
    await eventually(
      async () =>
        (await leftovers(suffix)).length === 0 &&
        !existsSync(created.directory) &&
        processesMentioning(created.directory).length === 0,
      'the reaper has removed the hosts and ended their processes',
    );
  });

  it('refuses host names it cannot use before creating anything', async () => {
    await expect(createTestHosts(['Source'])).rejects.toThrow(/must match/);
    await expect(createTestHosts(['a', 'a'])).rejects.toThrow(/distinct/);
    await expect(createTestHosts([])).rejects.toThrow(/distinct/);
  });
});
