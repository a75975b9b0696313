import { describe, expect, it } from 'vitest';
import { ErrorNames, SnapflowError } from '../../../lib/core/errors';
import { datasetOfExecution, reconcileSchedule } from '../../../lib/core/reconcile-schedule';
import type { ScheduledDataset, SchedulesPort } from '../../../lib/core/schedules-port';
import { records, stubEngine } from '../../support/stub-engine';

/** A schedules port that records what it was asked. */
function recordingSchedules(): SchedulesPort & { applied: ScheduledDataset[]; removed: string[] } {
  const applied: ScheduledDataset[] = [];
  const removed: string[] = [];
  return {
    applied,
    removed,
    apply: async (dataset) => void applied.push(dataset),
    remove: async (datasetId) => void removed.push(datasetId),
  };
}

const notFound = () =>
  new SnapflowError(ErrorNames.NotFound, 'there is no such dataset', { action: 'Use an existing id.' });

describe('datasetOfExecution', () => {
  it('reads the dataset from the input of link, provision and the deletes', () => {
    expect(datasetOfExecution({ dsourceId: 'ds-1', name: 'app' }, null)).toEqual({ id: 'ds-1', kind: 'dsource' });
    expect(datasetOfExecution({ vdbId: 'vdb-1', sourceDataId: 'ds-1' }, null)).toEqual({ id: 'vdb-1', kind: 'vdb' });
  });

  it('falls back to the output when the engine chose the id', () => {
    expect(datasetOfExecution({ name: 'app' }, { dsourceId: 'ds-2', snapshotId: 'snap-1' })).toEqual({
      id: 'ds-2',
      kind: 'dsource',
    });
  });

  it('names nothing when neither does', () => {
    expect(datasetOfExecution({ name: 'app' }, undefined)).toBeUndefined();
    expect(datasetOfExecution(undefined, 'text')).toBeUndefined();
  });
});

describe('reconcileSchedule', () => {
  it('applies the policy the engine records for a dataset that exists', async () => {
    const schedules = recordingSchedules();
    const engine = stubEngine({ getDSource: async () => records.dsource });

    const outcome = await reconcileSchedule({ id: records.dsource.id, kind: 'dsource' }, { engine, schedules });

    expect(outcome).toBe('applied');
    expect(schedules.applied).toEqual([{ id: records.dsource.id, kind: 'dsource', policy: records.dsource.policy }]);
  });

  it('applies a policy without a schedule too, which removes the schedule', async () => {
    const schedules = recordingSchedules();
    const engine = stubEngine({ getVdb: async () => records.vdb });

    const outcome = await reconcileSchedule({ id: records.vdb.id, kind: 'vdb' }, { engine, schedules });

    expect(outcome).toBe('removed');
    expect(schedules.applied).toEqual([{ id: records.vdb.id, kind: 'vdb', policy: records.vdb.policy }]);
  });

  it('removes the schedule of a dataset that is gone', async () => {
    const schedules = recordingSchedules();
    const engine = stubEngine({ getDSource: async () => Promise.reject(notFound()) });

    const outcome = await reconcileSchedule({ id: 'ds-00000000000000d9', kind: 'dsource' }, { engine, schedules });

    expect(outcome).toBe('removed');
    expect(schedules.removed).toEqual(['ds-00000000000000d9']);
  });

  it('changes nothing when the engine cannot say', async () => {
    const schedules = recordingSchedules();
    const unavailable = new SnapflowError(ErrorNames.EngineUnavailable, 'down', { action: 'Wait.' });
    const engine = stubEngine({ getVdb: async () => Promise.reject(unavailable) });

    await expect(reconcileSchedule({ id: 'vdb-1', kind: 'vdb' }, { engine, schedules })).rejects.toBe(unavailable);
    expect([...schedules.applied, ...schedules.removed]).toEqual([]);
  });
});
