import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createSfnJobs, executionArnOf, stepsFromHistory } from '../../../lib/adapters/sfn-jobs';
import { isSnapflowError } from '../../../lib/core/errors';
import { type WorkflowName, workflowInputSchemas } from '../../../lib/core/workflow-inputs';

const sfn = mockClient(SFNClient);
afterEach(() => sfn.reset());

const arnOf = (workflow: string) => `arn:aws:states:us-east-1:123456789012:stateMachine:Snapflow${workflow}`;
const stateMachineArns = Object.fromEntries(
  Object.keys(workflowInputSchemas).map((workflow) => [workflow, arnOf(workflow)]),
) as Record<WorkflowName, string>;
const jobs = () => createSfnJobs({ client: new SFNClient({}), stateMachineArns });
const at = (second: number) => new Date(Date.UTC(2026, 10, 21, 10, 0, second));

describe('createSfnJobs', () => {
  it("starts an execution of the workflow's state machine named by the job id", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: at(0) });

    const job = await jobs().start('refresh', { vdbId: 'vdb-0123456789abcdef' }, 'refresh-0123456789abcdef');

    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: arnOf('refresh'),
      name: 'refresh-0123456789abcdef',
      input: '{"vdbId":"vdb-0123456789abcdef"}',
    });
    expect(job).toEqual({
      id: 'refresh-0123456789abcdef',
      workflow: 'refresh',
      status: 'RUNNING',
      input: { vdbId: 'vdb-0123456789abcdef' },
      startedAt: '2026-11-21T10:00:00.000Z',
      steps: [],
    });
  });

  it('turns an execution name taken into a ConflictError', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'taken', $metadata: {} }));

    await expect(jobs().start('sync', {}, 'sync-0123456789abcdef')).rejects.toSatisfy((error) =>
      isSnapflowError(error, 'ConflictError'),
    );
  });

  it('reads a job from DescribeExecution and its steps from the history', async () => {
    const executionArn = executionArnOf(arnOf('provision'), 'provision-0123456789abcdef');
    sfn.on(DescribeExecutionCommand, { executionArn }).resolves({
      executionArn,
      stateMachineArn: arnOf('provision'),
      status: 'FAILED',
      input: '{"vdbId":"vdb-0123456789abcdef"}',
      startDate: at(0),
      stopDate: at(3),
      error: 'MountPointNotEmptyError',
      cause: '{"errorType":"MountPointNotEmptyError","errorMessage":"not empty\\nAction: Empty it."}',
    });
    sfn
      .on(GetExecutionHistoryCommand)
      .resolvesOnce({
        events: [
          { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
          { id: 2, type: 'TaskStateEntered', timestamp: at(0), stateEnteredEventDetails: { name: 'PlanProvision' } },
          { id: 3, type: 'TaskStateExited', timestamp: at(1), stateExitedEventDetails: { name: 'PlanProvision' } },
        ],
        nextToken: 'page-2',
      })
      .resolvesOnce({
        events: [
          { id: 4, type: 'TaskStateEntered', timestamp: at(1), stateEnteredEventDetails: { name: 'CheckMountPoint' } },
          { id: 5, type: 'TaskFailed', timestamp: at(2) },
          { id: 6, type: 'FailStateEntered', timestamp: at(2), stateEnteredEventDetails: { name: 'Failed' } },
          { id: 7, type: 'ExecutionFailed', timestamp: at(3) },
        ],
      });

    const job = await jobs().get('provision-0123456789abcdef');

    expect(job).toMatchObject({
      id: 'provision-0123456789abcdef',
      workflow: 'provision',
      status: 'FAILED',
      input: { vdbId: 'vdb-0123456789abcdef' },
      startedAt: '2026-11-21T10:00:00.000Z',
      endedAt: '2026-11-21T10:00:03.000Z',
      error: { name: 'MountPointNotEmptyError' },
    });
    expect(job.steps.map((step) => [step.name, step.status, step.durationMs])).toEqual([
      ['PlanProvision', 'SUCCEEDED', 1000],
      ['CheckMountPoint', 'CAUGHT', 1000],
      ['Failed', 'FAILED', 1000],
    ]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[1]?.args[0].input.nextToken).toBe('page-2');
  });

  it('answers NotFoundError for an id that is no job and for an execution that does not exist', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'none', $metadata: {} }));

    for (const id of ['vdb-0123456789abcdef', 'sync-0123456789abcdef'])
      await expect(jobs().get(id)).rejects.toSatisfy((error) => isSnapflowError(error, 'NotFoundError'));
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
  });
});

describe('stepsFromHistory', () => {
  const entered = (id: number, name: string, second: number): HistoryEvent => ({
    id,
    type: 'TaskStateEntered',
    timestamp: at(second),
    stateEnteredEventDetails: { name },
  });

  it('keeps a retried step running and marks the one still open of a running execution RUNNING', () => {
    const steps = stepsFromHistory([
      entered(1, 'Copy', 0),
      { id: 2, type: 'TaskScheduled', timestamp: at(0) },
      { id: 3, type: 'TaskFailed', timestamp: at(1) },
      { id: 4, type: 'TaskScheduled', timestamp: at(2) },
    ]);

    expect(steps).toEqual([{ name: 'Copy', status: 'RUNNING', startedAt: '2026-11-21T10:00:00.000Z' }]);
  });

  it('fails the step whose error failed the execution', () => {
    const steps = stepsFromHistory([
      entered(1, 'Copy', 0),
      { id: 2, type: 'TaskFailed', timestamp: at(1) },
      { id: 3, type: 'ExecutionFailed', timestamp: at(1) },
    ]);

    expect(steps[0]).toMatchObject({ name: 'Copy', status: 'FAILED', durationMs: 1000 });
  });
});
