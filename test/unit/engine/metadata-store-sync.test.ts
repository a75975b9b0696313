import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorNames } from '../../../lib/core/errors';
import { emptyDocument, MetadataStore } from '../../../lib/engine/metadata-store';
import { makeTempRoot, removeTempRoot } from '../../support/engine-temp-root';

/** When set, opening this directory (as the store does to fsync it) fails as a broken disk would. */
const failing: { directory?: string } = {};

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      if (failing.directory !== undefined && args[0] === failing.directory)
        throw Object.assign(new Error(`EIO: i/o error, open '${String(args[0])}'`), { code: 'EIO' });
      return actual.open(...args);
    },
  };
});

const environment = (index: number) => ({
  id: `env-${index.toString(16).padStart(16, '0')}`,
  name: `environment ${index}`,
  hostId: 'local',
  scratchPath: '/var/tmp/snapflow',
  createdAt: '2026-01-01T00:00:00.000Z',
});

describe('MetadataStore when the directory fsync fails', () => {
  let root: string;

  beforeEach(async () => {
    root = await makeTempRoot('metadata-sync');
  });

  afterEach(async () => {
    failing.directory = undefined;
    await removeTempRoot(root);
  });

  it('fails the write, but holds in memory what the file holds, so the next write keeps the change', async () => {
    // Prepare
    const path = join(root, 'metadata.json');
    const store = await MetadataStore.open(path);
    await store.write({ ...emptyDocument(), environments: [environment(1)] });

    // Act: the rename lands, the directory fsync fails.
    failing.directory = root;
    const failed = store.write({ ...store.document, environments: [environment(1), environment(2)] });
    await expect(failed).rejects.toMatchObject({
      name: ErrorNames.Storage,
      message: expect.stringMatching(/was replaced and is in effect, but its directory could not be synced/),
    });
    failing.directory = undefined;
    await store.write({ ...store.document, environments: [...store.document.environments, environment(3)] });

    // Assess
    const onDisk = JSON.parse(await readFile(path, 'utf8'));
    expect(onDisk.environments.map((record: { id: string }) => record.id)).toEqual(
      [1, 2, 3].map((index) => environment(index).id),
    );
    expect(store.document).toEqual(onDisk);
  });
});
