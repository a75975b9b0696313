import { describe, expect, it } from 'vitest';
import { parseRsyncStats, recordSnapshot } from '../../../../lib/core/steps/record-snapshot';
import { seedSnapshot } from '../../../support/engine-fixtures';
import { FakeEngine, fixedClock } from '../../../support/fake-engine';

const STATS_3_2 = `
Number of files: 1,240 (reg: 1,234, dir: 6)
Number of created files: 1,240 (reg: 1,234, dir: 6)
Number of deleted files: 0
Number of regular files transferred: 1,234
Total file size: 12,345 bytes
Total transferred file size: 12,345 bytes
Literal data: 12,345 bytes
Matched data: 0 bytes
File list size: 0
Total bytes sent: 20,104
Total bytes received: 24,747

sent 20,104 bytes  received 24,747 bytes  89,702.00 bytes/sec
total size is 12,345  speedup is 0.28
`;

describe('parseRsyncStats', () => {
  it('reads counts with thousands separators', () => {
    expect(parseRsyncStats(STATS_3_2)).toEqual({ filesTransferred: 1234, bytesTransferred: 12345 });
  });

  it('reads the older "files transferred" line', () => {
    const output = 'Number of files transferred: 7\nTotal transferred file size: 900 bytes\n';

    expect(parseRsyncStats(output)).toEqual({ filesTransferred: 7, bytesTransferred: 900 });
  });

  it('leaves out counts it cannot find', () => {
    expect(parseRsyncStats('rsync: connection unexpectedly closed')).toEqual({});
  });
});

describe('recordSnapshot', () => {
  it('snapshots the dSource with provenance from the trigger, rsync and the clock', async () => {
    const engine = new FakeEngine();
    const { dsource } = await seedSnapshot(engine);

    const { snapshotId } = await recordSnapshot(
      {
        dsourceId: dsource.id,
        trigger: { kind: 'event', id: 'evt-1' },
        snapshotParameters: { resync: true },
        startedAt: '2026-03-01T10:00:00.000Z',
        copyOutput: STATS_3_2,
      },
      { engine, clock: fixedClock('2026-03-01T10:00:42.500Z') },
    );

    expect(engine.snapshots.get(snapshotId)).toMatchObject({
      datasetId: dsource.id,
      metadata: {},
      provenance: {
        trigger: { kind: 'event', id: 'evt-1' },
        filesTransferred: 1234,
        bytesTransferred: 12345,
        durationMs: 42_500,
        pluginVersion: '0.1.0',
        snapshotParameters: { resync: true },
      },
    });
  });

  it('hands the engine the request token, and none when the workflow gives none', async () => {
    const engine = new FakeEngine();
    const { dsource } = await seedSnapshot(engine);
    const input = {
      dsourceId: dsource.id,
      trigger: { kind: 'api' as const },
      snapshotParameters: { resync: false },
      startedAt: '2026-03-01T10:00:00.000Z',
      copyOutput: '',
    };
    const ports = { engine, clock: fixedClock('2026-03-01T10:00:01.000Z') };

    await recordSnapshot({ ...input, requestToken: 'arn:exec#RecordSnapshot' }, ports);
    await recordSnapshot(input, ports);

    const [first, second] = engine.calls.filter((call) => call.method === 'snapshotDataset');
    expect(first?.args[1]).toMatchObject({ requestToken: 'arn:exec#RecordSnapshot' });
    expect(second?.args[1]).not.toHaveProperty('requestToken');
  });
});
