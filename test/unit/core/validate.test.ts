import { describe, expect, it } from 'vitest';
import { SnapflowError } from '../../../lib/core/errors';
import { validate } from '../../../lib/core/validate';
import { provisionInputSchema } from '../../../lib/core/workflow-inputs';

const good = {
  name: 'vdb one',
  snapshotId: 'snap-0123456789abcdef',
  environmentId: 'env-0123456789abcdef',
  virtualSource: { mountLocation: '/mnt/vdb-1' },
};

function failure(input: unknown): SnapflowError {
  try {
    validate(provisionInputSchema, input, 'input');
  } catch (error) {
    if (error instanceof SnapflowError) return error;
    throw error;
  }
  throw new Error('validation passed');
}

describe('validate', () => {
  it('returns valid input unchanged', () => {
    expect(validate(provisionInputSchema, good, 'input')).toBe(good);
  });

  it('names a missing field and says to add it', () => {
    const error = failure({ ...good, virtualSource: {} });
    expect(error.name).toBe('ValidationError');
    expect(error.field).toBe('input.virtualSource.mountLocation');
    expect(error.message).toBe('input.virtualSource.mountLocation is missing');
    expect(error.action).toBe('Add input.virtualSource.mountLocation to the request.');
  });

  it('names an unknown field and lists the known ones', () => {
    const error = failure({ ...good, extra: 1 });
    expect(error.field).toBe('input.extra');
    expect(error.action).toBe(
      'Remove it; known fields are: vdbId, name, snapshotId, sourceDataId, environmentId, virtualSource, policy.',
    );
  });

  it.each([
    ['relative', 'mnt/vdb', 'is not an absolute path (it must start with /)'],
    ['dot-dot', '/mnt/../etc', "contains a '.' or '..' segment"],
    ['metacharacter', '/mnt/$(id)', 'contains "$", which is not allowed in host paths'],
  ])('explains a %s mount location', (_, mountLocation, problem) => {
    const error = failure({ ...good, virtualSource: { mountLocation } });
    expect(error.field).toBe('input.virtualSource.mountLocation');
    expect(error.message).toBe(`input.virtualSource.mountLocation ${problem}: ${JSON.stringify(mountLocation)}`);
    expect(error.action).toMatch(/absolute path/);
  });

  it('names a wrongly typed field', () => {
    const error = failure({ ...good, name: 7 });
    expect(error.field).toBe('input.name');
    expect(error.message).toBe('input.name must be of type string');
  });

  it('rejects an id that does not look like one', () => {
    const error = failure({ ...good, snapshotId: 'latest' });
    expect(error.field).toBe('input.snapshotId');
    expect(error.message).toBe('input.snapshotId has a value that is not allowed: "latest"');
  });
});
