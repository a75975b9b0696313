import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Job, JobReader, WorkflowStarter } from '../../../lib/api/api-ports';
import { type Route, routes } from '../../../lib/api/routes';
import { commands, main } from '../../../lib/cli/main';
import { ErrorNames, SnapflowError } from '../../../lib/core/errors';
import type { Environment } from '../../../lib/core/model';
import type { EngineApi } from '../../../lib/core/ports';
import type { WorkflowName } from '../../../lib/core/workflow-inputs';
import { buildLocalApi } from '../../../lib/local/local-api';
import { records, stubEngine } from '../../support/stub-engine';
import { stubSchedules } from '../../support/stub-schedules';

/** Jobs that go through the states the test scripts, one per read. */
class ScriptedJobs implements WorkflowStarter, JobReader {
  readonly started: { workflow: WorkflowName; input: unknown }[] = [];
  private readonly views = new Map<string, Job[]>();

  constructor(private readonly script: (job: Job) => Job[]) {}

  async start(workflow: WorkflowName, input: unknown, jobId: string): Promise<Job> {
    this.started.push({ workflow, input });
    const job: Job = {
      id: jobId,
      workflow,
      status: 'RUNNING',
      input,
      startedAt: '2026-11-21T10:00:00.000Z',
      steps: [],
    };
    this.views.set(jobId, this.script(job));
    return job;
  }

  async get(jobId: string): Promise<Job> {
    const views = this.views.get(jobId) as Job[];
    return (views.length > 1 ? views.shift() : views[0]) as Job;
  }
}

const step = (name: string, status: Job['steps'][number]['status']) => ({
  name,
  status,
  startedAt: '2026-11-21T10:00:00.000Z',
});

const succeeds = (job: Job): Job[] => [
  { ...job, steps: [step('PlanProvision', 'RUNNING')] },
  {
    ...job,
    steps: [step('PlanProvision', 'SUCCEEDED'), step('MountTarget', 'SUCCEEDED'), step('MountTarget.Poll', 'RUNNING')],
  },
  {
    ...job,
    status: 'SUCCEEDED',
    endedAt: '2026-11-21T10:00:01.500Z',
    steps: [
      step('PlanProvision', 'SUCCEEDED'),
      step('MountTarget', 'SUCCEEDED'),
      step('MountTarget.Poll', 'SUCCEEDED'),
    ],
    output: { vdbId: (job.input as { vdbId: string }).vdbId, mountLocation: '/mnt/app-dev' },
  },
];

const fails = (job: Job): Job[] => [
  {
    ...job,
    status: 'FAILED',
    endedAt: '2026-11-21T10:00:01.000Z',
    steps: [step('CheckMountPoint', 'CAUGHT')],
    error: {
      name: 'MountPointNotEmptyError',
      cause: JSON.stringify({
        errorType: 'MountPointNotEmptyError',
        errorMessage: 'virtualSource.mountLocation /mnt/app-dev is not empty\nAction: Choose an empty directory.',
        trace: ['MountPointNotEmptyError: …', '    at checkMountPoint (plan.ts:1:1)'],
      }),
    },
  },
];

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** Runs the CLI in-process against the local API (served by inject, not a socket) over a stub engine. */
async function cli(
  argv: string[],
  options: { engine?: Partial<EngineApi>; script?: (job: Job) => Job[]; tty?: boolean } = {},
) {
  const jobs = new ScriptedJobs(options.script ?? succeeds);
  const server = await buildLocalApi({
    ports: { engine: stubEngine(options.engine ?? {}), workflows: jobs, jobs, schedules: stubSchedules() },
    token: 'cli-test-token',
    log: () => undefined,
  });
  apps.push(server);
  const fetchViaInject: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const answer = await server.inject({
      method: init?.method as 'GET',
      url: `${url.pathname}${url.search}`,
      headers: init?.headers as Record<string, string>,
      ...(init?.body === undefined ? {} : { payload: init.body as string }),
    });
    return new Response(answer.statusCode === 204 ? null : answer.body, { status: answer.statusCode });
  };
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const code = await main(
    argv,
    (line) => out.push(line),
    (line) => err.push(line),
    {
      env: { SNAPFLOW_API_URL: 'http://127.0.0.1:7760', SNAPFLOW_API_TOKEN: 'cli-test-token' },
      fetch: fetchViaInject,
      sleep: async () => undefined,
      ...(options.tty === true ? { progress: (text: string) => progress.push(text) } : {}),
    },
  );
  return { code, out: out.join('\n'), err: err.join('\n'), progress, jobs };
}

const provision = [
  'vdb',
  'provision',
  '--name',
  'app-dev',
  '--source-data',
  records.dsource.id,
  '--environment',
  records.environment.id,
  '--mount-location',
  '/mnt/app-dev',
];

describe('main', () => {
  it('lists records as a table for people and as JSON with --json', async () => {
    const engine = { listEnvironments: async () => [records.environment] };

    const table = await cli(['environment', 'list'], { engine });
    const json = await cli(['environment', 'list', '--json'], { engine });

    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^id\s+name\s+host\s+scratch path\s+created$/);
    expect(table.out).toContain(`${records.environment.id}  build-host  local`);
    expect(JSON.parse(json.out)).toEqual([expect.objectContaining({ id: records.environment.id, host_id: 'local' })]);
  });

  it('registers an SSH host: the flags reach the engine as ssh and sshClient, and the answer shows them', async () => {
    const calls: unknown[] = [];
    const engine = {
      createEnvironment: async (input: Parameters<EngineApi['createEnvironment']>[0]) => {
        calls.push(input);
        return { ...records.environment, ...input, ssh: { port: 22, ...input.ssh } } as Environment;
      },
    };
    const flags = ['--ssh-address', '10.0.0.5', '--ssh-user', 'root', '--ssh-identity-file', '/k/id'];
    const client = ['--client-identity-file', '/s/id', '--client-known-hosts-file', '/s/known'];

    const run = await cli(
      [
        'environment',
        'add',
        '--name',
        'staging',
        '--host-id',
        'ssh-staging',
        ...flags,
        '--ssh-known-hosts-file',
        '/k/kh',
        ...client,
        '--json',
      ],
      { engine },
    );
    const missing = await cli(['environment', 'add', '--name', 'staging', '--host-id', 'ssh-staging', ...flags], {
      engine,
    });

    expect(run.code, run.err).toBe(0);
    expect(calls).toEqual([
      {
        name: 'staging',
        hostId: 'ssh-staging',
        ssh: { address: '10.0.0.5', user: 'root', identityFile: '/k/id', knownHostsFile: '/k/kh' },
        sshClient: { identityFile: '/s/id', knownHostsFile: '/s/known' },
      },
    ]);
    expect(JSON.parse(run.out)).toMatchObject({
      host_id: 'ssh-staging',
      ssh: { address: '10.0.0.5', port: 22, user: 'root', identity_file: '/k/id', known_hosts_file: '/k/kh' },
      ssh_client: { identity_file: '/s/id', known_hosts_file: '/s/known' },
    });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--ssh-known-hosts-file is required');
  });

  it('provisions, printing each step it enters when stderr is no terminal, and the result', async () => {
    const run = await cli(provision);

    expect(run.code).toBe(0);
    expect(run.jobs.started).toEqual([
      {
        workflow: 'provision',
        input: {
          name: 'app-dev',
          sourceDataId: records.dsource.id,
          environmentId: records.environment.id,
          virtualSource: { mountLocation: '/mnt/app-dev' },
          vdbId: expect.stringMatching(/^vdb-[0-9a-f]{16}$/),
        },
      },
    ]);
    expect(run.err.split('\n')).toEqual([
      expect.stringMatching(/^ {2}\+0\.00 s {2}provision vdb-[0-9a-f]{16}: PlanProvision$/),
      expect.stringMatching(/^ {2}\+0\.00 s {2}provision vdb-[0-9a-f]{16}: MountTarget$/),
    ]);
    expect(run.out).toMatch(
      /^provision-[0-9a-f]{16} SUCCEEDED in 1\.50 s: vdb_id vdb-[0-9a-f]{16}, mount_location \/mnt\/app-dev$/,
    );
  });

  it('redraws one progress line on a terminal, then clears it', async () => {
    const run = await cli(provision, { tty: true });

    expect(run.progress.slice(0, -1).every((line) => /^. provision vdb-\S+ · \S+ · [\d.]+ s$/.test(line))).toBe(true);
    expect(run.progress.some((line) => line.includes(' · MountTarget · '))).toBe(true);
    expect(run.progress.some((line) => line.includes('MountTarget.Poll'))).toBe(false);
    expect(run.progress.at(-1)).toBe('');
    expect(run.err).toBe('');
  });

  it('prints only the new id with --quiet, and the started job at once with --no-wait', async () => {
    const quiet = await cli([...provision, '-q']);
    const noWait = await cli([...provision, '--no-wait', '--json']);

    expect(quiet.out).toMatch(/^vdb-[0-9a-f]{16}$/);
    const started = JSON.parse(noWait.out) as { job: { status: string; id: string }; vdb_id: string };
    expect(started.job.status).toBe('RUNNING');
    expect(started.vdb_id).toMatch(/^vdb-[0-9a-f]{16}$/);
  });

  it("exits 1 with the failed job's message and action, and no stack trace", async () => {
    const run = await cli(provision, { script: fails });

    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^snapflow: job provision-[0-9a-f]{16} /m);
    expect(run.err).toContain(
      'FAILED: MountPointNotEmptyError: virtualSource.mountLocation /mnt/app-dev is not empty\n  what to do: Choose an empty directory.',
    );
    expect(run.err).not.toMatch(/\bat \w+ \(/);
  });

  it("exits 1 with the API's error and what to do about it", async () => {
    const run = await cli(['vdb', 'rollback', 'vdb-00000000000000ff', '--snapshot', records.snapshot.id], {
      engine: {
        getVdb: async () => {
          throw new SnapflowError(ErrorNames.NotFound, 'there is no VDB vdb-00000000000000ff', {
            action: 'List the VDBs with `snapflow vdb list`.',
          });
        },
      },
    });

    expect(run.code).toBe(1);
    expect(run.err).toBe(
      'snapflow: NotFoundError: there is no VDB vdb-00000000000000ff\n  what to do: List the VDBs with `snapflow vdb list`.',
    );
  });

  it('exits 2 with the usage for a missing flag, an unknown verb or flag, and a missing id', async () => {
    for (const argv of [
      ['vdb', 'provision', '--environment', records.environment.id],
      ['vdb', 'teleport'],
      ['vdb', 'list', '--colour'],
      ['vdb', 'show'],
      [...provision, '--snapshot', records.snapshot.id],
      ['up', '--backend', 'zfs'],
      ['up', '--port', 'eighty'],
      ['up', '--copy-timeout', '0'],
      ['up', '--copy-timeout', '172801'],
    ]) {
      const run = await cli(argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.err, argv.join(' ')).toMatch(/^snapflow: .+\n\nUsage: snapflow/);
    }
  });

  it('has a command for every route of the API', () => {
    const used = new Set<string | undefined>(
      commands.flatMap((command) =>
        'command' in command ? [] : Object.values(command.verbs).map((verb) => verb.operationId),
      ),
    );
    expect((routes as readonly Route[]).map((route) => route.operationId).filter((id) => !used.has(id))).toEqual([]);
  });

  it('still knows demo', async () => {
    const run = await cli(['demo', '--backend', 'zfs']);

    expect(run.code).toBe(2);
    expect(run.err).toContain('--backend must be auto, btrfs or dir');
  });
});

describe('policies, retention marks and events', () => {
  const link = [
    'dsource',
    'link',
    '--name',
    'app',
    '--source-config',
    records.sourceConfig.id,
    '--staging-environment',
    records.environment.id,
    '--mount-location',
    '/mnt/staging',
  ];

  it('links with a schedule, the counts given changed from the default retention, and event sources', async () => {
    const run = await cli([
      ...link,
      '--cron',
      '0 2 * * *',
      '--time-zone',
      'Europe/Berlin',
      '--keep-daily',
      '30',
      '--keep-at-least',
      '3',
      '--event-source',
      's3://app-drops/incoming/',
      '--no-wait',
    ]);

    expect(run.code, run.err).toBe(0);
    expect(run.jobs.started[0]?.input).toMatchObject({
      policy: {
        schedule: { cron: '0 2 * * *', timeZone: 'Europe/Berlin' },
        retention: { hourly: 24, daily: 30, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 3 },
      },
      eventSources: [{ kind: 's3', bucket: 'app-drops', prefix: 'incoming/' }],
    });
  });

  it('changes only what the flags name of a policy, and prints the dSource as it is then', async () => {
    const calls: unknown[] = [];
    const run = await cli(['dsource', 'set-policy', records.dsource.id, '--keep-daily', '3', '--cron', '15 * * * *'], {
      engine: {
        getDSource: async () => records.dsource,
        updateDatasetSettings: async (_id, input) => {
          calls.push(input);
          return { ...records.dsource, ...(input as object) };
        },
      },
    });

    expect(run.code, run.err).toBe(0);
    expect(calls).toEqual([
      {
        policy: {
          schedule: { cron: '15 * * * *', timeZone: records.dsource.policy.schedule.timeZone },
          retention: { ...records.dsource.policy.retention, daily: 3 },
        },
      },
    ]);
    expect(run.out).toMatch(/^policy\.schedule\.cron\s+15 \* \* \* \*$/m);
  });

  it('removes a VDB’s schedule, and refuses a set-policy with nothing to set or a count that is no number', async () => {
    const engine = {
      getVdb: async () => records.vdb,
      updateDatasetSettings: async () => records.vdb,
    };

    expect((await cli(['vdb', 'set-policy', records.vdb.id, '--no-schedule'], { engine })).code).toBe(0);
    for (const argv of [
      ['vdb', 'set-policy', records.vdb.id],
      ['vdb', 'set-policy', records.vdb.id, '--keep-daily', 'seven'],
      ['vdb', 'set-policy', records.vdb.id, '--time-zone', 'UTC'],
      ['dsource', 'set-policy', records.dsource.id, '--event-source', 'https://example.com/x'],
    ]) {
      const run = await cli(argv, { engine: { ...engine, getDSource: async () => records.dsource } });
      expect(run.code, argv.join(' ')).toBe(2);
    }
  });

  it('sets and clears a snapshot’s expiry and its retain-forever mark', async () => {
    const bodies: unknown[] = [];
    const engine = {
      updateSnapshot: async (_id: string, input: object) => {
        bodies.push(input);
        return records.snapshot;
      },
    };

    for (const argv of [
      ['snapshot', 'set-expiry', records.snapshot.id, '--expires-at', '2027-01-01T00:00:00Z'],
      ['snapshot', 'set-expiry', records.snapshot.id, '--clear'],
      ['snapshot', 'retain', records.snapshot.id],
      ['snapshot', 'retain', records.snapshot.id, '--no-forever'],
    ])
      expect((await cli(argv, { engine })).code, argv.join(' ')).toBe(0);
    expect((await cli(['snapshot', 'set-expiry', records.snapshot.id], { engine })).code).toBe(2);

    expect(bodies).toEqual([
      { expiresAt: '2027-01-01T00:00:00Z' },
      { expiresAt: null },
      { retainForever: true },
      { retainForever: false },
    ]);
  });

  it('sends a Source Data Changed event and follows the sync it starts, or says nothing matched', async () => {
    const catalog = {
      listDSources: async () => [records.dsource],
      listSourceConfigs: async () => [records.sourceConfig],
      listEnvironments: async () => [records.environment],
    };

    const matched = await cli(['event', 'send', '--dsource', records.dsource.id], { engine: catalog });
    const unmatched = await cli(['event', 'send', '--source-host', 'elsewhere', '--source-path', '/srv/app'], {
      engine: catalog,
    });

    expect(matched.code, matched.err).toBe(0);
    expect(matched.jobs.started).toEqual([
      {
        workflow: 'sync',
        input: expect.objectContaining({
          dsourceId: records.dsource.id,
          trigger: { kind: 'event', id: expect.any(String) },
        }),
      },
    ]);
    expect(matched.out).toMatch(/^Event [0-9a-f-]{36}: started sync-[0-9a-f]{16}\nsync-[0-9a-f]{16} SUCCEEDED/);
    expect(unmatched.out).toMatch(/^Event [0-9a-f-]{36}: no dSource matched; nothing started$/);
    expect(unmatched.jobs.started).toEqual([]);
    expect((await cli(['event', 'send', '--source-host', 'local'])).code).toBe(2);
  });

  it('applies retention as a dry run and prints what it would keep and delete, and why', async () => {
    const report = 'snapshot  created  decision\nsnap-1    …        keep: newest';
    const run = await cli(['dsource', 'retention', records.dsource.id, '--dry-run'], {
      engine: { getDSource: async () => records.dsource },
      script: (job) => [
        {
          ...job,
          status: 'SUCCEEDED',
          endedAt: '2026-11-21T10:00:00.300Z',
          output: {
            datasetId: records.dsource.id,
            dryRun: true,
            kept: [{ id: 'snap-1', reasons: [] }],
            deleted: [],
            report,
          },
        },
      ],
    });

    expect(run.code, run.err).toBe(0);
    expect(run.jobs.started).toEqual([
      { workflow: 'retention', input: expect.objectContaining({ datasetId: records.dsource.id, dryRun: true }) },
    ]);
    expect(run.out).toBe(
      `${(run.jobs.started[0] as { input: { trigger: { id: string } } }).input.trigger.id} SUCCEEDED in 0.30 s: dataset_id ${records.dsource.id}, dry_run true\n${report}`,
    );
  });
});
