import { describe, expect, it } from 'vitest';
import {
  dsourceSchema,
  environmentSchema,
  jobSchema,
  snapshotSchema,
  sourceConfigSchema,
  spaceSchema,
  timeflowSchema,
  vdbSchema,
} from '../../../lib/api/api-schemas';
import { present } from '../../../lib/api/present';
import { validate } from '../../../lib/core/validate';
import { records } from '../../support/stub-engine';

describe('present', () => {
  it('answers every record exactly as its documented schema says', () => {
    const cases: [object, unknown][] = [
      [environmentSchema, present.environment(records.environment)],
      [sourceConfigSchema, present.sourceConfig(records.sourceConfig)],
      [dsourceSchema, present.dsource(records.dsource)],
      [dsourceSchema, present.dsource(records.dsource, '2026-11-22T02:30:00.000Z')],
      [vdbSchema, present.vdb(records.vdb)],
      [vdbSchema, present.vdb(records.vdb, '2026-11-22T02:30:00.000Z')],
      [snapshotSchema, present.snapshot(records.snapshot)],
      [timeflowSchema, present.timeflow(records.timeflow)],
      [spaceSchema, present.space(records.space)],
    ];
    for (const [schema, record] of cases) expect(() => validate(schema, record, 'answer')).not.toThrow();
  });

  it('keeps the plugin’s own field names inside linked_source and virtual_source', () => {
    expect(present.dsource(records.dsource).linked_source).toEqual({
      sourceAddress: 'localhost',
      username: 'root',
      mountLocation: '/mnt/staging',
    });
    expect(present.vdb(records.vdb).virtual_source).toEqual({ mountLocation: '/mnt/app-dev' });
  });

  it('answers a job with its target and its output in snake_case', () => {
    const job = present.job({
      id: 'sync-0123456789abcdef',
      workflow: 'sync',
      status: 'SUCCEEDED',
      input: { dsourceId: records.dsource.id },
      startedAt: '2026-11-21T10:00:00.000Z',
      endedAt: '2026-11-21T10:00:02.000Z',
      steps: [],
      output: { dsourceId: records.dsource.id, snapshotId: records.snapshot.id },
    });

    expect(job).toMatchObject({
      target_id: records.dsource.id,
      output: { dsource_id: records.dsource.id, snapshot_id: records.snapshot.id },
    });
    expect(() => validate(jobSchema, job, 'answer')).not.toThrow();
  });
});
