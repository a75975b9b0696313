import { describe, expect, it } from 'vitest';
import { formatTable } from '../../../lib/core/format-table';

describe('formatTable', () => {
  it('pads columns to their widest cell under a rule', () => {
    expect(
      formatTable(
        ['step', 'result'],
        [
          ['link', 'SUCCEEDED'],
          ['provision vdb-1', 'FAILED'],
        ],
      ),
    ).toBe(
      [
        'step             result',
        '---------------  ---------',
        'link             SUCCEEDED',
        'provision vdb-1  FAILED',
      ].join('\n'),
    );
  });
});
