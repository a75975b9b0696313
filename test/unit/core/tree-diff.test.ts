import { describe, expect, it } from 'vitest';
import { diffTrees, type TreeEntry } from '../../../lib/core/tree-diff';

const file = (path: string, sha256 = 'aa', mode = 0o644): TreeEntry => ({
  path,
  type: 'file',
  mode,
  size: 1,
  sha256,
  mtimeSec: 1,
});

describe('diffTrees', () => {
  it('finds nothing between equal trees', () => {
    expect(diffTrees([file('a'), file('b')], [file('a'), file('b')])).toEqual([]);
  });

  it('reports missing, unexpected and changed entries', () => {
    expect(diffTrees([file('a'), file('b'), file('c')], [file('a', 'bb'), file('c', 'aa', 0o600), file('d')])).toEqual([
      { path: 'a', what: 'sha256: expected aa, got bb' },
      { path: 'b', what: 'missing' },
      { path: 'c', what: `mode: expected ${0o644}, got ${0o600}` },
      { path: 'd', what: 'unexpected' },
    ]);
  });

  it('notices a field present on one side only, such as a new hard link', () => {
    expect(diffTrees([file('a')], [{ ...file('a'), linkGroup: 'a' }])).toEqual([
      { path: 'a', what: 'linkGroup: expected undefined, got a' },
    ]);
  });

  it('stops at the limit', () => {
    expect(diffTrees([file('a'), file('b'), file('c')], [], 2)).toHaveLength(2);
  });
});
