import { describe, expect, it } from 'vitest';
import { ID_PATTERN } from '../../../lib/core/field-schemas';
import { ID_PREFIXES, newId } from '../../../lib/core/ids';

describe('newId', () => {
  it('gives every record kind ids that match ID_PATTERN, a new one each time', () => {
    for (const kind of Object.keys(ID_PREFIXES) as (keyof typeof ID_PREFIXES)[]) {
      const id = newId(kind);

      expect(id).toMatch(new RegExp(ID_PATTERN));
      expect(id.startsWith(`${ID_PREFIXES[kind]}-`)).toBe(true);
      expect(newId(kind)).not.toBe(id);
    }
  });
});
