import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UNIX_PATH_PATTERN } from '../../../lib/core/paths';
import { checkDocument, HostAgent, SsmErrorNames, SsmServiceError } from '../../../lib/local/host-agent';
import type { HostRunner } from '../../../lib/local/host-runner';
import { LocalHostRunner } from '../../../lib/local/local-host-runner';
import type { SsmDocument } from '../../../lib/local/resolve-template';

function shellDocument(name: string, runCommand: string[], extra: Partial<SsmDocument['content']> = {}): SsmDocument {
  return {
    name,
    content: {
      schemaVersion: '2.2',
      mainSteps: [{ action: 'aws:runShellScript', name: 'run', inputs: { timeoutSeconds: 30, runCommand } }],
      ...extra,
    },
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

async function rejection(promise: Promise<unknown>): Promise<SsmServiceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SsmServiceError) return error;
    throw error;
  }
  throw new Error('expected an SsmServiceError');
}

describe('HostAgent', () => {
  let work: string;
  let agent: HostAgent;
  let marker: string;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'snapflow-host-agent-'));
    marker = join(work, 'ran');
    const mount = shellDocument('MountDoc', [`echo ran > ${marker}`, 'echo "{{ MountPath }} {{Access}}"'], {
      parameters: {
        MountPath: { type: 'String', allowedPattern: UNIX_PATH_PATTERN, description: 'Where to mount' },
        Access: { type: 'String', allowedValues: ['ro', 'rw'], default: 'rw', description: 'Mount access' },
      },
    });
    const free = shellDocument('FreeDoc', ['printf %s "{{ Text }}"'], {
      parameters: { Text: { type: 'String', description: 'Anything' } },
    });
    const exit3 = shellDocument('FailDoc', ['echo hello', 'echo oops >&2', 'exit 3']);
    const big = shellDocument('BigDoc', [
      'awk \'BEGIN { for (i = 0; i < 30000; i++) printf "o" }\'',
      'awk \'BEGIN { for (i = 0; i < 9000; i++) printf "e" }\' >&2',
    ]);
    const sleeper = shellDocument(
      'SleepDoc',
      [
        `sleep {{ Seconds }} & echo $! > ${join(work, 'pids')}`,
        `echo $$ >> ${join(work, 'pids')}`,
        'wait',
        'echo woke',
      ],
      {
        parameters: { Seconds: { type: 'String', allowedPattern: '^[0-9.]{1,4}$', description: 'How long' } },
      },
    );
    const shortTimeout = { ...sleeper, name: 'ShortTimeoutDoc' };
    shortTimeout.content = {
      ...sleeper.content,
      mainSteps: sleeper.content.mainSteps.map((step) => ({ ...step, inputs: { ...step.inputs, timeoutSeconds: 1 } })),
    };
    agent = new HostAgent({
      documents: Object.fromEntries([mount, free, exit3, big, sleeper, shortTimeout].map((doc) => [doc.name, doc])),
      hosts: { local: new LocalHostRunner() },
      logDirectory: join(work, 'logs'),
      pollWaitMs: 5000,
    });
  });

  afterEach(async () => {
    await agent.close();
    await rm(work, { recursive: true, force: true });
  });

  async function runToEnd(documentName: string, parameters: Record<string, string[]> = {}) {
    const { Command } = await agent.sendCommand({
      DocumentName: documentName,
      InstanceIds: ['local'],
      Parameters: parameters,
    });
    return agent.waitForCommand(Command.CommandId, 'local');
  }

  describe('parameter rules', () => {
    it.each([
      ['a .. segment', { MountPath: ['/mnt/../etc'] }, '"MountPath" value "/mnt/../etc" does not match'],
      ['a semicolon', { MountPath: ['/mnt/a;reboot'] }, '"MountPath" value "/mnt/a;reboot" does not match'],
      ['command substitution', { MountPath: ['/mnt/$(id)'] }, '"MountPath" value "/mnt/$(id)" does not match'],
      ['backticks', { MountPath: ['/mnt/`id`'] }, '"MountPath" value "/mnt/`id`" does not match'],
      ['double quotes', { MountPath: ['/mnt/"a"'] }, 'does not match the allowed pattern'],
      ['single quotes', { MountPath: ["/mnt/'a'"] }, 'does not match the allowed pattern'],
      ['a newline', { MountPath: ['/mnt/a\nreboot'] }, '"MountPath" value "/mnt/a\\nreboot" does not match'],
      ['a trailing newline', { MountPath: ['/mnt/a\n'] }, 'does not match the allowed pattern'],
      [
        'a value not allowed',
        { MountPath: ['/mnt/a'], Access: ['rwx'] },
        '"Access" value "rwx" is not one of the allowed values: ro, rw',
      ],
      [
        'an unknown parameter',
        { MountPath: ['/mnt/a'], Force: ['yes'] },
        'Parameter "Force" is not defined; the document\'s parameters are: MountPath, Access',
      ],
      ['a missing parameter', {}, 'Parameter "MountPath" is required and has no default'],
      [
        'two values',
        { MountPath: ['/mnt/a', '/mnt/b'] },
        'Parameter "MountPath" is a String and takes exactly one value, got 2',
      ],
      ['no value', { MountPath: [] }, 'Parameter "MountPath" is a String and takes exactly one value, got 0'],
      ['a value that is not a list', { MountPath: '/mnt/a' }, 'Parameter "MountPath" must be a list of strings'],
    ])('refuses %s with InvalidParameters before running anything', async (_, parameters, message) => {
      const error = await rejection(
        agent.sendCommand({
          DocumentName: 'MountDoc',
          InstanceIds: ['local'],
          Parameters: parameters as Record<string, string[]>,
        }),
      );

      expect(error.name).toBe(SsmErrorNames.InvalidParameters);
      expect(error.message).toContain(message);
      expect(error.message).toContain('(document MountDoc)');
      expect(existsSync(marker)).toBe(false);
    });

    it('refuses an unknown document with InvalidDocument', async () => {
      const error = await rejection(agent.sendCommand({ DocumentName: 'NoSuchDoc', InstanceIds: ['local'] }));

      expect(error.name).toBe(SsmErrorNames.InvalidDocument);
      expect(error.message).toBe('Document NoSuchDoc does not exist');
    });

    it('refuses an unknown host with InvalidInstanceId', async () => {
      const error = await rejection(
        agent.sendCommand({ DocumentName: 'MountDoc', InstanceIds: ['i-0123'], Parameters: { MountPath: ['/mnt/a'] } }),
      );

      expect(error.name).toBe(SsmErrorNames.InvalidInstanceId);
      expect(error.message).toBe('Host "i-0123" is not known to the host agent; known hosts: local');
      expect(existsSync(marker)).toBe(false);
    });

    it('asks resolveHost for a host it does not have, runs there what it finds, and refuses what it does not', async () => {
      const asked: string[] = [];
      const onDemand = new HostAgent({
        documents: { FailDoc: shellDocument('FailDoc', ['echo "on $AWS_SSM_INSTANCE_ID"']) },
        hosts: { local: new LocalHostRunner() },
        resolveHost: async (instanceId) => {
          asked.push(instanceId);
          return instanceId === 'ssh-found' ? new LocalHostRunner() : undefined;
        },
        logDirectory: join(work, 'on-demand-logs'),
      });
      try {
        const { Command } = await onDemand.sendCommand({ DocumentName: 'FailDoc', InstanceIds: ['ssh-found'] });
        const invocation = await onDemand.waitForCommand(Command.CommandId, 'ssh-found');
        const error = await rejection(onDemand.sendCommand({ DocumentName: 'FailDoc', InstanceIds: ['ssh-gone'] }));

        expect(invocation).toMatchObject({ Status: 'Success', StandardOutputContent: 'on ssh-found\n' });
        expect(error.name).toBe(SsmErrorNames.InvalidInstanceId);
        expect(error.message).toBe(
          'Host "ssh-gone" is not known to the host agent; known hosts: local, and the hosts registered with the engine',
        );
        expect(asked).toEqual(['ssh-found', 'ssh-gone']);
      } finally {
        await onDemand.close();
      }
    });

    it('runs a valid command with defaults applied, addressing the document by name or ARN', async () => {
      const invocation = await runToEnd('arn:aws:ssm:us-east-1:123456789012:document/MountDoc', {
        MountPath: ['/mnt/vdb-1'],
      });

      expect(invocation.Status).toBe('Success');
      expect(invocation.StandardOutputContent).toBe('/mnt/vdb-1 rw\n');
      expect(existsSync(marker)).toBe(true);
    });

    it('substitutes values literally, replacement patterns and spacing variants included', async () => {
      const invocation = await runToEnd('FreeDoc', { Text: ["a$&b$'c"] });

      expect(invocation.StandardOutputContent).toBe("a$&b$'c");
    });
  });

  describe('running scripts', () => {
    it('reports success with the exit code and output', async () => {
      const { Command } = await agent.sendCommand({
        DocumentName: 'MountDoc',
        InstanceIds: ['local'],
        Parameters: { MountPath: ['/mnt/a'] },
      });

      expect(Command.Status).toBe('Pending');
      const invocation = await agent.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' });
      expect(invocation).toMatchObject({
        CommandId: Command.CommandId,
        InstanceId: 'local',
        DocumentName: 'MountDoc',
        PluginName: 'run',
        Status: 'Success',
        StatusDetails: 'Success',
        ResponseCode: 0,
        StandardErrorContent: '',
      });
      expect(invocation.ExecutionElapsedTime).toMatch(/^PT\d+\.\d{3}S$/);
    });

    it('reports a failing script as Failed with its exit code and stderr', async () => {
      const invocation = await runToEnd('FailDoc');

      expect(invocation.Status).toBe('Failed');
      expect(invocation.StatusDetails).toBe('Failed');
      expect(invocation.ResponseCode).toBe(3);
      expect(invocation.StandardOutputContent).toBe('hello\n');
      expect(invocation.StandardErrorContent).toBe('oops\n');
    });

    it('truncates output as SSM does and keeps all of it in the log directory', async () => {
      const { Command } = await agent.sendCommand({ DocumentName: 'BigDoc', InstanceIds: ['local'] });
      const invocation = await agent.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' });

      expect(invocation.Status).toBe('Success');
      expect(invocation.StandardOutputContent).toBe('o'.repeat(24_000));
      expect(invocation.StandardErrorContent).toBe('e'.repeat(8_000));
      const files = agent.outputFiles(Command.CommandId, 'local');
      expect(files.stdout).toBe(join(work, 'logs', Command.CommandId, 'local', 'awsrunShellScript', 'run', 'stdout'));
      expect((await readFile(files.stdout, 'utf8')).length).toBe(30_000);
      expect((await readFile(files.stderr, 'utf8')).length).toBe(9_000);
    });

    it('kills the whole process group at the step timeout and reports TimedOut', async () => {
      const started = Date.now();
      const invocation = await runToEnd('ShortTimeoutDoc', { Seconds: ['30'] });

      // Left alone, the script would have ended Success after 30 s, printing "woke".
      expect(invocation.Status).toBe('TimedOut');
      expect(invocation.StatusDetails).toBe('ExecutionTimedOut');
      expect(invocation.ResponseCode).toBe(-1);
      expect(invocation.StandardOutputContent).toBe('');
      expect(Date.now() - started).toBeLessThan(25_000);
      const pids = (await readFile(join(work, 'pids'), 'utf8')).trim().split('\n').map(Number);
      expect(pids).toHaveLength(2);
      for (const pid of pids) expect(isRunning(pid)).toBe(false);
    });

    it('cancels a running command: Cancelled, and its processes are gone', async () => {
      const { Command } = await agent.sendCommand({
        DocumentName: 'SleepDoc',
        InstanceIds: ['local'],
        Parameters: { Seconds: ['30'] },
      });
      await expect
        .poll(
          () =>
            existsSync(join(work, 'pids')) && readFileSync(join(work, 'pids'), 'utf8').trim().split('\n').length === 2,
        )
        .toBe(true);

      await agent.cancelCommand({ CommandId: Command.CommandId });
      const invocation = await agent.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' });

      expect(invocation.Status).toBe('Cancelled');
      expect(invocation.ResponseCode).toBe(-1);
      const pids = (await readFile(join(work, 'pids'), 'utf8')).trim().split('\n').map(Number);
      for (const pid of pids) expect(isRunning(pid)).toBe(false);
    });

    it('leaves a finished command as it was when cancelled', async () => {
      const invocation = await runToEnd('FailDoc');

      await agent.cancelCommand({ CommandId: invocation.CommandId, InstanceIds: ['local'] });

      const again = await agent.getCommandInvocation({ CommandId: invocation.CommandId, InstanceId: 'local' });
      expect(again.Status).toBe('Failed');
    });

    it('long-polls: waits for a command that ends within pollWaitMs', async () => {
      const { Command } = await agent.sendCommand({
        DocumentName: 'SleepDoc',
        InstanceIds: ['local'],
        Parameters: { Seconds: ['0.3'] },
      });

      const invocation = await agent.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' });

      expect(invocation.Status).toBe('Success');
      expect(invocation.StandardOutputContent).toBe('woke\n');
    });

    it('long-polls: answers InProgress after pollWaitMs when the command runs longer', async () => {
      const quick = new HostAgent({
        documents: { SleepDoc: shellDocument('SleepDoc', ['sleep 30']) },
        hosts: { local: new LocalHostRunner() },
        logDirectory: join(work, 'quick-logs'),
        pollWaitMs: 300,
      });
      try {
        const { Command } = await quick.sendCommand({ DocumentName: 'SleepDoc', InstanceIds: ['local'] });
        const started = Date.now();

        const invocation = await quick.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' });
        const waited = Date.now() - started;
        await quick.cancelCommand({ CommandId: Command.CommandId });
        const ended = await quick.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' });

        // It answered while the command still ran (it was cancelled afterwards), having waited first:
        // a timer never fires early, however loaded the machine.
        expect(invocation).toMatchObject({ Status: 'InProgress', ResponseCode: -1 });
        expect(ended.Status).toBe('Cancelled');
        expect(waited).toBeGreaterThanOrEqual(250);
      } finally {
        await quick.close();
      }
    });

    it('waitForCommand waits for the end, past pollWaitMs, and answers as getCommandInvocation', async () => {
      const quick = new HostAgent({
        documents: { SleepDoc: shellDocument('SleepDoc', ['sleep 0.6', 'echo woke']) },
        hosts: { local: new LocalHostRunner() },
        logDirectory: join(work, 'wait-logs'),
        pollWaitMs: 100,
      });
      try {
        const { Command } = await quick.sendCommand({ DocumentName: 'SleepDoc', InstanceIds: ['local'] });

        const invocation = await quick.waitForCommand(Command.CommandId, 'local');

        expect(invocation).toMatchObject({ Status: 'Success', ResponseCode: 0, StandardOutputContent: 'woke\n' });
        expect(invocation).toEqual(
          await quick.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' }),
        );
        const unknown = await rejection(quick.waitForCommand(Command.CommandId, 'other'));
        expect(unknown.name).toBe(SsmErrorNames.InvocationDoesNotExist);
      } finally {
        await quick.close();
      }
    });

    it('answers InvocationDoesNotExist for an unknown command or host', async () => {
      const unknownCommand = await rejection(agent.getCommandInvocation({ CommandId: 'nope', InstanceId: 'local' }));
      const invocation = await runToEnd('FailDoc');
      const unknownHost = await rejection(
        agent.getCommandInvocation({ CommandId: invocation.CommandId, InstanceId: 'other' }),
      );

      expect(unknownCommand.name).toBe(SsmErrorNames.InvocationDoesNotExist);
      expect(unknownHost.name).toBe(SsmErrorNames.InvocationDoesNotExist);
    });

    it('answers InvalidPluginName for a step the document does not have', async () => {
      const invocation = await runToEnd('FailDoc');

      const error = await rejection(
        agent.getCommandInvocation({ CommandId: invocation.CommandId, InstanceId: 'local', PluginName: 'other' }),
      );

      expect(error.name).toBe(SsmErrorNames.InvalidPluginName);
    });

    it('gives scripts a minimal environment, not the agent process environment', async () => {
      process.env.SNAPFLOW_TEST_SECRET = 'leaked';
      try {
        const env = new HostAgent({
          documents: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
            EnvDoc: shellDocument('EnvDoc', ['echo "${SNAPFLOW_TEST_SECRET:-unset} $AWS_SSM_INSTANCE_ID"']),
          },
          hosts: { local: new LocalHostRunner() },
          logDirectory: join(work, 'env-logs'),
        });
        const { Command } = await env.sendCommand({ DocumentName: 'EnvDoc', InstanceIds: ['local'] });
        const invocation = await env.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' });
        await env.close();

        expect(invocation.StandardOutputContent).toBe('unset local\n');
      } finally {
        delete process.env.SNAPFLOW_TEST_SECRET;
      }
    });

    it('runs one invocation per host and reports a host its runner cannot reach as Failed', async () => {
      const unreachable: HostRunner = {
        start: () => Promise.reject(new Error('ssh: connect to host db1 port 22: Connection refused')),
      };
      const multi = new HostAgent({
        documents: { FailDoc: shellDocument('FailDoc', ['echo hello']) },
        hosts: { local: new LocalHostRunner(), db1: unreachable },
        logDirectory: join(work, 'multi-logs'),
      });
      try {
        const { Command } = await multi.sendCommand({ DocumentName: 'FailDoc', InstanceIds: ['local', 'db1'] });

        const local = await multi.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' });
        const db1 = await multi.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'db1' });

        expect(Command.TargetCount).toBe(2);
        expect(local).toMatchObject({ Status: 'Success', StandardOutputContent: 'hello\n' });
        expect(db1).toMatchObject({ Status: 'Failed', ResponseCode: -1, StandardOutputContent: '' });
        expect(db1.StandardErrorContent).toBe(
          'The host agent could not run the script: ssh: connect to host db1 port 22: Connection refused\n',
        );
      } finally {
        await multi.close();
      }
    });

    it('close() kills running commands and refuses new ones', async () => {
      const { Command } = await agent.sendCommand({
        DocumentName: 'SleepDoc',
        InstanceIds: ['local'],
        Parameters: { Seconds: ['30'] },
      });

      await agent.close();

      const invocation = await agent.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' });
      expect(invocation.Status).toBe('Cancelled');
      await expect(agent.sendCommand({ DocumentName: 'FailDoc', InstanceIds: ['local'] })).rejects.toThrow(
        'The host agent is closed',
      );
    });
  });
});

describe('HostAgent memory', () => {
  let work: string;
  let now: number;
  let agent: HostAgent;
  const documents = {
    EchoDoc: shellDocument('EchoDoc', ['echo done']),
    SleepDoc: shellDocument('SleepDoc', ['sleep 30']),
  };

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'snapflow-host-agent-memory-'));
    now = 0;
    agent = new HostAgent({
      documents,
      hosts: { local: new LocalHostRunner() },
      logDirectory: work,
      pollWaitMs: 5000,
      retainFinishedMs: 3_600_000,
      maxFinishedCommands: 3,
      now: () => now,
    });
  });

  afterEach(async () => {
    await agent.close();
    await rm(work, { recursive: true, force: true });
  });

  async function ended(documentName: string): Promise<string> {
    const { Command } = await agent.sendCommand({ DocumentName: documentName, InstanceIds: ['local'] });
    const invocation = await agent.getCommandInvocation({ CommandId: Command.CommandId, InstanceId: 'local' });
    expect(invocation.Status).toBe('Success');
    return Command.CommandId;
  }

  const answers = async (commandId: string) =>
    agent.getCommandInvocation({ CommandId: commandId, InstanceId: 'local' }).then(
      (invocation) => invocation.Status,
      (error: Error) => error.name,
    );

  it('forgets a command an hour after it ended, and never one that still runs', async () => {
    const first = await ended('EchoDoc');
    now = 10;
    const second = await ended('EchoDoc');
    const { Command: running } = await agent.sendCommand({ DocumentName: 'SleepDoc', InstanceIds: ['local'] });

    now = 3_600_005;
    const third = await ended('EchoDoc');

    expect(await answers(first)).toBe(SsmErrorNames.InvocationDoesNotExist);
    expect(await answers(second)).toBe('Success');
    expect(await answers(third)).toBe('Success');
    expect(await answers(running.CommandId)).toBe('InProgress');
    expect(agent.commandCount).toBe(3);
    // The output stays on disk, as in a log group.
    expect(existsSync(join(work, first))).toBe(true);
  });

  it('keeps at most maxFinishedCommands ended commands, forgetting those that ended first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      now = i;
      ids.push(await ended('EchoDoc'));
    }

    // Each send first forgets what is over the bound, then adds its own: three ended, and the newest.
    expect(agent.commandCount).toBe(4);
    expect(await Promise.all(ids.map(answers))).toEqual([
      SsmErrorNames.InvocationDoesNotExist,
      SsmErrorNames.InvocationDoesNotExist,
      'Success',
      'Success',
      'Success',
      'Success',
    ]);
    await expect(agent.cancelCommand({ CommandId: ids[0] as string })).rejects.toMatchObject({
      name: SsmErrorNames.InvalidCommandId,
    });
  });
});

describe('LocalHostRunner', () => {
  let work: string;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'snapflow-runner-'));
  });

  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function start(text: string, runner: LocalHostRunner) {
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const script = await runner.start({
      text,
      commandDirectory: work,
      environment: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdout: output,
      stderr: new PassThrough().resume(),
    });
    return { script, output: () => Buffer.concat(chunks).toString('utf8') };
  }

  it('stops a script with SIGTERM first, so that its EXIT trap cleans up', async () => {
    const { script, output } = await start(
      [`trap 'echo cleaned up' EXIT`, `trap 'exit 143' TERM`, 'echo started', 'sleep 30', ''].join('\n'),
      new LocalHostRunner({ killGraceMs: 60_000 }),
    );
    await expect.poll(output).toContain('started');

    script.kill();
    const exit = await script.exited;

    expect(exit).toEqual({ exitCode: 143, signal: null });
    expect(output()).toBe('started\ncleaned up\n');
  });

  it('kills what ignores SIGTERM once the grace period is over, process group and all', async () => {
    const { script, output } = await start(
      [
        `trap 'echo ignored' TERM`,
        'sleep 30 &',
        'echo $! > pid',
        'echo started',
        'while :; do sleep 0.05; done',
        '',
      ].join('\n'),
      new LocalHostRunner({ killGraceMs: 300 }),
    );
    await expect.poll(output).toContain('started');
    const child = Number(readFileSync(join(work, 'pid'), 'utf8'));

    script.kill();
    const exit = await script.exited;

    expect(exit).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(output()).toContain('ignored');
    expect(isRunning(child)).toBe(false);
  });
});

describe('checkDocument', () => {
  it.each([
    [
      'two steps',
      {
        mainSteps: [
          { action: 'aws:runShellScript', name: 'a', inputs: { runCommand: [] } },
          { action: 'aws:runShellScript', name: 'b', inputs: { runCommand: [] } },
        ],
      },
      'it must have exactly one step',
    ],
    [
      'another action',
      { mainSteps: [{ action: 'aws:runPowerShellScript', name: 'a', inputs: { runCommand: [] } }] },
      'step a is aws:runPowerShellScript',
    ],
    [
      'an undeclared reference',
      { mainSteps: [{ action: 'aws:runShellScript', name: 'a', inputs: { runCommand: ['echo {{ Nope }}'] } }] },
      '{{ Nope }} is not a declared parameter',
    ],
    ['a non-String parameter', { parameters: { N: { type: 'Integer' } } }, 'parameter N is of type Integer'],
    [
      'a default its own pattern refuses',
      { parameters: { P: { type: 'String', allowedPattern: '^[a-z]+$', default: 'A1' } } },
      'the default of "P" value "A1" does not match',
    ],
    ['an older schema', { schemaVersion: '1.2' }, 'schemaVersion is 1.2, expected 2.2'],
  ])('refuses %s', (_, content, message) => {
    const document = shellDocument('Doc', ['true'], content as Partial<SsmDocument['content']>);

    expect(() => checkDocument(document)).toThrow(message);
    expect(() => checkDocument(document)).toThrow(/^SSM document Doc cannot run on the host agent: /);
  });
});
