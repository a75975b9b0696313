import { describe, expect, it } from 'vitest';
import { reportExport } from '../../../../lib/core/steps/report-export';

describe('reportExport', () => {
  it("answers with the export and what rsync's stats say it transferred", async () => {
    const input = {
      vdbId: 'vdb-0000000000000001',
      snapshotId: 'snap-0000000000000002',
      targetPath: '/srv/exports/dev',
      exportOutput:
        'Number of files: 9\nNumber of regular files transferred: 1,002\nTotal transferred file size: 12,345 bytes\n',
    };

    await expect(reportExport(input)).resolves.toEqual({
      vdbId: input.vdbId,
      snapshotId: input.snapshotId,
      targetPath: input.targetPath,
      filesTransferred: 1002,
      bytesTransferred: 12345,
    });
  });
});
