import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostAgent } from '../../../lib/local/host-agent';
import { LocalHostRunner } from '../../../lib/local/local-host-runner';
import { LOCAL_QUEUE_RETRY_MAX_MS, LocalWorkflows, localRetryIntervalsMs } from '../../../lib/local/local-workflows';
import type { StepRecord } from '../../../lib/local/record-steps';
import { type CloudFormationResource, resolveTemplate } from '../../../lib/local/resolve-template';
import { fixtureTemplate, unsupportedTemplate } from '../../fixtures/local/fixture-stack';

const repoRoot = resolve(__dirname, '../../..');

type Template = { Resources: Record<string, CloudFormationResource> };

/**
 * The synthesized DefinitionString joined by hand, with the placeholder each reference must become:
 * an oracle for the ASL the interpreter receives, independent of the resolver.
 */
function joinedDefinition(template: Template, workflow: string): unknown {
  const resources = template.Resources;
  const [, machine] = Object.entries(resources).find(([, r]) => r.Metadata?.SnapflowWorkflow === workflow) ?? [];
  const definition = machine?.Properties?.DefinitionString as string | { 'Fn::Join': [string, unknown[]] };
  const parts = typeof definition === 'string' ? [definition] : definition['Fn::Join'][1];
  const text = parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref === 'AWS::Partition') return 'aws';
      if (ref !== undefined && resources[ref]?.Type === 'AWS::StepFunctions::StateMachine') {
        return `arn:aws:states:us-east-1:123456789012:stateMachine:${ref}`;
      }
      if (ref !== undefined && resources[ref]?.Type === 'AWS::SSM::Document') return ref;
      const [id, attribute] = (part as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      if (attribute === 'Arn' && resources[id]?.Type === 'AWS::Lambda::Function') {
        return `arn:aws:lambda:us-east-1:123456789012:function:${id}`;
      }
      throw new Error(`unexpected fragment ${JSON.stringify(part)}`);
    })
    .join('');
  return JSON.parse(text);
}

function input(overrides: Record<string, unknown> = {}) {
  return {
    name: 'world',
    host: 'local',
    sleep: '0',
    exitCode: '0',
    flakyFailures: 0,
    failWith: null,
    childFailWith: null,
    failBranch: false,
    ...overrides,
  };
}

describe('LocalWorkflows', () => {
  let template: Template;
  let work: string;
  let agent: HostAgent;
  let workflows: LocalWorkflows;

  beforeAll(async () => {
    template = fixtureTemplate() as Template;
    work = await mkdtemp(join(tmpdir(), 'snapflow-local-workflows-'));
    agent = new HostAgent({
      documents: resolveTemplate(template).documents,
      hosts: { local: new LocalHostRunner() },
      logDirectory: work,
      pollWaitMs: 200,
    });
    workflows = new LocalWorkflows(resolveTemplate(template), {
      repoRoot,
      hostAgent: agent,
      environment: { ENGINE_URL: 'http://127.0.0.1:9/engine' },
    });
  });

  afterAll(async () => {
    await agent?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('lists the workflows by their SnapflowWorkflow names', () => {
    expect(workflows.workflowNames()).toEqual(['child', 'fixture', 'map', 'slow']);
  });

  it.each(['fixture', 'child', 'map', 'slow'])('gives the interpreter the synthesized ASL of %s, unchanged', (name) => {
    const asl = workflows.asl(name);

    expect(asl).toEqual(joinedDefinition(template, name));
    expect(JSON.stringify(asl)).not.toMatch(/Fn::|"Ref"/);
  });

  it('runs Lambda tasks, a Run Command poll loop, a Parallel and a nested child to success', async () => {
    const steps: StepRecord[] = [];

    const run = await workflows.run('fixture', input({ sleep: '1', flakyFailures: 2 }), {
      executionName: 'happy-path',
      onStep: (step) => steps.push({ ...step }),
    });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.error).toBeUndefined();
    expect(run.executionArn).toBe('arn:aws:states:us-east-1:123456789012:execution:FixtureWorkflowF74303A3:happy-path');
    expect(run.output).toMatchObject({
      flaky: { attempts: 3 },
      greet: {
        greeting: 'hello world',
        functionName: 'Greet8553ACA9',
        hasTimeLeft: true,
        engineUrl: 'http://127.0.0.1:9/engine',
      },
      invocation: { Status: 'Success', ResponseCode: 0, Stdout: 'out: world\n', Stderr: 'err: world\n' },
      parallel: [{ ok: true }, { name: 'world' }],
      child: { Status: 'SUCCEEDED', Output: { greeting: 'hello world', statusCode: 200 } },
    });
    expect(run.durationMs).toBeGreaterThanOrEqual(900);

    const names = run.steps.map((step) => step.state);
    expect(names.slice(0, 4)).toEqual(['Flaky Step', 'Greet Step', 'Send Echo', 'Wait For Echo']);
    expect(names.filter((name) => name === 'Poll Echo').length).toBeGreaterThanOrEqual(2);
    expect(names.slice(-2)).toEqual(['Run Child', 'Done']);
    expect(run.steps.find((step) => step.state === 'Flaky Step')).toMatchObject({ status: 'SUCCEEDED', retries: 2 });
    expect(run.steps.every((step) => step.status === 'SUCCEEDED')).toBe(true);
    for (const step of run.steps)
      expect(step.durationMs).toBe(Date.parse(step.endedAt ?? '') - Date.parse(step.startedAt));
    expect(steps.some((step) => step.status === 'RUNNING')).toBe(true);
    expect(steps.filter((step) => step.status !== 'RUNNING')).toHaveLength(run.steps.length + 2);
  });

  it('routes a handler error to the Catch that names it, with Lambda-shaped Cause', async () => {
    const run = await workflows.run('fixture', input({ failWith: 'ValidationError' }));

    expect(run.status).toBe('SUCCEEDED');
    const { rejected } = run.output as { rejected: { Error: string; Cause: string } };
    expect(rejected.Error).toBe('ValidationError');
    expect(JSON.parse(rejected.Cause)).toMatchObject({
      errorType: 'ValidationError',
      errorMessage: 'world was refused',
    });
    expect(run.steps.find((step) => step.state === 'Greet Step')?.status).toBe('CAUGHT');
    expect(run.steps.at(-1)?.state).toBe('Rejected');
  });

  it('fails the execution with a handler error no Catch names', async () => {
    const run = await workflows.run('fixture', input({ failWith: 'ConflictError' }));

    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('ConflictError');
    expect(run.steps.at(-1)).toMatchObject({ state: 'Greet Step', status: 'FAILED', error: { name: 'ConflictError' } });
  });

  it('catches a Fail state inside a Parallel branch at the Parallel', async () => {
    const run = await workflows.run('fixture', input({ failBranch: true }));

    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({
      branchError: { Error: 'MountPointBusyError', Cause: 'the mount point is busy' },
    });
    expect(run.output).not.toHaveProperty('parallel');
    const status = Object.fromEntries(run.steps.map((step) => [step.state, step.status]));
    expect(status).toMatchObject({
      'Fan Out': 'CAUGHT',
      'Branch Fails': 'FAILED',
      Recovered: 'SUCCEEDED',
      Done: 'SUCCEEDED',
    });
  });

  it('takes the failure branch of the poll loop when the host command fails', async () => {
    const run = await workflows.run('fixture', input({ exitCode: '3' }));

    expect(run.status).toBe('FAILED');
    expect(run.error).toEqual({ name: 'HostCommandFailedError', cause: 'err: world\n' });
  });

  it('fails with Ssm.InvalidParametersException when a value breaks the document pattern', async () => {
    const run = await workflows.run('fixture', input({ name: 'world; reboot' }));

    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('Ssm.InvalidParametersException');
    expect(run.error?.cause).toContain('"Message" value "world; reboot" does not match');
  });

  it('reports a failed child as States.TaskFailed with the child error and cause', async () => {
    const run = await workflows.run('fixture', input({ childFailWith: 'ValidationError' }));

    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('States.TaskFailed');
    const cause = JSON.parse(run.error?.cause ?? '');
    expect(cause).toMatchObject({
      Status: 'FAILED',
      Error: 'ValidationError',
      StateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:ChildWorkflowEDE90DEF',
    });
    expect(JSON.parse(cause.Cause)).toMatchObject({ errorMessage: 'world was refused' });
  });

  it('dispatches tasks inside a Map and records each iteration', async () => {
    const run = await workflows.run('map', { names: ['ann', 'bob', 'cy'] });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual([{ greeting: 'hello ann' }, { greeting: 'hello bob' }, { greeting: 'hello cy' }]);
    const iterations = run.steps.filter((step) => step.state === 'Greet Item');
    expect(iterations.map((step) => step.mapIndex).sort()).toEqual([0, 1, 2]);
    expect(iterations.every((step) => step.status === 'SUCCEEDED')).toBe(true);
  });

  it('times a handler out after the function Timeout as Sandbox.Timedout', async () => {
    const run = await workflows.run('slow', {});

    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('Sandbox.Timedout');
    expect(JSON.parse(run.error?.cause ?? '').errorMessage).toMatch(/Task timed out after 1.00 seconds$/);
  });

  it('ends an execution that outlives its TimeoutSeconds as TIMED_OUT', async () => {
    const timed = new LocalWorkflows(
      resolveTemplate({
        Resources: {
          SlowFn: {
            Type: 'AWS::Lambda::Function',
            Properties: { Timeout: 5 },
            Metadata: { SnapflowHandler: 'test/fixtures/local/handlers/slow.ts' },
          },
          Timed: {
            Type: 'AWS::StepFunctions::StateMachine',
            Metadata: { SnapflowWorkflow: 'timed' },
            Properties: {
              DefinitionString: {
                'Fn::Join': [
                  '',
                  [
                    '{"TimeoutSeconds":1,"StartAt":"Slow","States":{"Slow":{"Type":"Task","End":true,"Resource":"',
                    { 'Fn::GetAtt': ['SlowFn', 'Arn'] },
                    '"}}}',
                  ],
                ],
              },
            },
          },
        },
      }),
      { repoRoot, hostAgent: agent },
    );

    const run = await timed.run('timed', {});

    // The handler would answer after 1.5 s, within its Lambda timeout: only the execution's own
    // TimeoutSeconds ends the run as TIMED_OUT. No wall-clock bound: a loaded CI machine may be slow.
    expect(run.status).toBe('TIMED_OUT');
    expect(run.error?.name).toBe('States.Timeout');
    expect(run.output).toBeUndefined();
  });

  it('aborts an execution through its signal', async () => {
    const controller = new AbortController();
    const running = workflows.run('fixture', input({ sleep: '5' }), {
      signal: controller.signal,
      onStep: (step) => {
        if (step.state === 'Poll Echo') controller.abort();
      },
    });

    const run = await running;

    expect(run.status).toBe('ABORTED');
    expect(run.error).toBeUndefined();
    expect(run.steps.at(-1)?.status).toBe('ABORTED');
  });

  it.each(['fixture', 'child', 'map', 'slow'])('leaves the ASL of %s as synthesized after running', (name) => {
    expect(workflows.asl(name)).toEqual(joinedDefinition(template, name));
  });

  it('refuses an unknown workflow name, listing the known ones', () => {
    expect(() => workflows.run('nope', {})).toThrow('No workflow named nope; workflows: child, fixture, map, slow');
  });

  it('refuses, at construction, a Task it cannot run locally', () => {
    expect(() => new LocalWorkflows(resolveTemplate(unsupportedTemplate()), { repoRoot, hostAgent: agent })).toThrow(
      'Workflow list, state "List Buckets", uses arn:aws:states:::aws-sdk:s3:listBuckets, which local mode cannot run',
    );
  });

  it('refuses, at construction, a handler module that does not exist', () => {
    const broken = structuredClone(template);
    const slow = Object.values(broken.Resources).find(
      (r) => r.Metadata?.SnapflowHandler === 'test/fixtures/local/handlers/slow.ts',
    );
    if (slow?.Metadata !== undefined) slow.Metadata.SnapflowHandler = 'test/fixtures/local/handlers/missing.ts';

    expect(() => new LocalWorkflows(resolveTemplate(broken), { repoRoot, hostAgent: agent })).toThrow(
      /Workflow slow, state "Slow Step", invokes \w+, whose handler module .*missing\.ts does not exist/,
    );
  });

  it('fails like Lambda when a module does not export handler', async () => {
    const broken = structuredClone(template);
    const slow = Object.values(broken.Resources).find(
      (r) => r.Metadata?.SnapflowHandler === 'test/fixtures/local/handlers/slow.ts',
    );
    if (slow?.Metadata !== undefined) slow.Metadata.SnapflowHandler = 'test/fixtures/local/handlers/no-handler.ts';

    const run = await new LocalWorkflows(resolveTemplate(broken), { repoRoot, hostAgent: agent }).run('slow', {});

    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('Runtime.HandlerNotFound');
  });
});

describe('localRetryIntervalsMs', () => {
  const task = (Retry?: { ErrorEquals: string[]; IntervalSeconds?: number; MaxDelaySeconds?: number }[]) =>
    ({ Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:F', End: true, Retry }) as const;

  it('keeps the declared interval, up to a second, for retriers that queue for a lease; the given pause for others', () => {
    const intervals = localRetryIntervalsMs(
      task([
        { ErrorEquals: ['EngineUnavailableError'], IntervalSeconds: 2 },
        { ErrorEquals: ['DatasetBusyError'], IntervalSeconds: 2, MaxDelaySeconds: 15 },
        { ErrorEquals: ['DatasetBusyError'] },
        { ErrorEquals: ['DatasetBusyError', 'ConflictError'], IntervalSeconds: 2 },
      ]),
      5,
    );

    expect(LOCAL_QUEUE_RETRY_MAX_MS).toBe(1000);
    expect(intervals).toEqual([5, 1000, 1000, 5]);
  });

  it('has nothing to say of a state without Retry', () => {
    expect(localRetryIntervalsMs(task(), 0)).toBeUndefined();
  });
});
