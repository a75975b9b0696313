import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorNames } from '../../../lib/core/errors';
import { emptyDocument, MetadataStore } from '../../../lib/engine/metadata-store';
import { makeTempRoot, removeTempRoot } from '../../support/engine-temp-root';

const environment = {
  id: 'env-0123456789abcdef',
  name: 'local',
  hostId: 'local',
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('MetadataStore', () => {
  let root: string;
  let path: string;

  beforeEach(async () => {
    root = await makeTempRoot('metadata');
    path = join(root, 'metadata.json');
  });

  afterEach(async () => {
    await removeTempRoot(root);
  });

  it('starts empty and new when there is no file, without writing one', async () => {
    const store = await MetadataStore.open(path);
    expect(store.isNew).toBe(true);
    expect(store.document).toEqual(emptyDocument());
    expect(await readdir(root)).toEqual([]);
  });

  it('writes a document that the next open loads, readable by its owner only', async () => {
    // Prepare
    const store = await MetadataStore.open(path);

    // Act
    await store.write({ ...emptyDocument(), environments: [environment] });
    const reopened = await MetadataStore.open(path);

    // Assess
    expect(store.isNew).toBe(false);
    expect(reopened.isNew).toBe(false);
    expect(reopened.document.environments).toEqual([environment]);
    expect(store.document.environments).toEqual([environment]);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(root)).toEqual(['metadata.json']);
  });

  it('ignores and removes a temporary file that a crash left before its rename', async () => {
    // Prepare
    await (await MetadataStore.open(path)).write({ ...emptyDocument(), environments: [environment] });
    await writeFile(`${path}.tmp`, '{"version":1,"environm');

    // Act
    const store = await MetadataStore.open(path);

    // Assess
    expect(store.document.environments).toEqual([environment]);
    expect(await readdir(root)).toEqual(['metadata.json']);
  });

  it.each([
    ['not JSON', '{"version":'],
    ['another version', '{"version":2,"environments":[]}'],
    ['missing collections', '{"version":1,"environments":[]}'],
  ])('refuses a file that is %s with StorageError, and leaves it alone', async (_, content) => {
    // Prepare
    await writeFile(path, content);

    // Act
    const opening = MetadataStore.open(path);

    // Assess
    await expect(opening).rejects.toMatchObject({
      name: ErrorNames.Storage,
      message: expect.stringContaining(path),
      action: expect.stringMatching(/do not delete it/),
    });
    expect(await readFile(path, 'utf8')).toBe(content);
  });

  it('answers StorageError when the directory is gone', async () => {
    const store = await MetadataStore.open(join(root, 'missing', 'metadata.json'));
    await expect(store.write(emptyDocument())).rejects.toMatchObject({ name: ErrorNames.Storage });
  });

  it('leaves a whole document, old or new, when its writer is SIGKILLed at any moment', async () => {
    for (let round = 0; round < 8; round += 1) {
      // Prepare: a process rewriting the store in a tight loop.
      const writer = spawn(process.execPath, ['--import', 'tsx', 'test/support/metadata-writer.ts', path], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = once(writer, 'exit');
      await once(writer.stdout, 'data');
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 40)));

      // Act
      writer.kill('SIGKILL');
      await exited;

      // Assess: the file parses, and every environment in it was written whole.
      const store = await MetadataStore.open(path);
      const { environments } = store.document;
      expect(environments.length).toBeGreaterThan(0);
      environments.forEach((record, index) => {
        expect(record.id).toBe(`env-${index.toString(16).padStart(16, '0')}`);
        expect(record.name).toHaveLength(`environment ${index} `.length + 2000);
      });
    }
  });
});
