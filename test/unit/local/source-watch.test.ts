import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job, JobReader, WorkflowStarter } from '../../../lib/api/api-ports';
import type { WorkflowName } from '../../../lib/core/workflow-inputs';
import { LocalTriggers } from '../../../lib/local/local-triggers';
import { SourceWatch, WATCH_DEBOUNCE_MS } from '../../../lib/local/source-watch';
import { records, stubEngine } from '../../support/stub-engine';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, for up to `ms`. */
async function eventually(check: () => boolean, ms: number): Promise<void> {
  for (const started = Date.now(); !check(); await sleep(20))
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
}

describe('SourceWatch', () => {
  let root: string;
  let watch: SourceWatch | undefined;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'snapflow-watch-'));
  });
  afterEach(async () => {
    watch?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('reports a burst of changes anywhere in the tree once, after it went quiet', async () => {
    const changed: string[] = [];
    watch = new SourceWatch({ onChange: (path) => changed.push(path), onError: () => undefined, debounceMs: 150 });
    await mkdir(join(root, 'deep', 'er'), { recursive: true });
    watch.set([root]);

    for (let index = 0; index < 10; index += 1) {
      await writeFile(join(root, 'deep', 'er', `file-${index}`), `${index}`);
      await sleep(20);
    }
    expect(changed).toEqual([]);
    await eventually(() => changed.length > 0, 2000);
    await sleep(300);
    expect(changed).toEqual([root]);

    await writeFile(join(root, 'later'), 'x');
    await eventually(() => changed.length === 2, 2000);
  });

  it('watches exactly the paths it was last given, and reports a path it cannot watch', async () => {
    const errors: string[] = [];
    const changed: string[] = [];
    watch = new SourceWatch({
      onChange: (path) => changed.push(path),
      onError: (path) => errors.push(path),
      debounceMs: 50,
    });
    const missing = join(root, 'not-yet');

    watch.set([root, missing]);
    expect(watch.paths()).toEqual([root]);
    expect(errors).toEqual([missing]);
    watch.set([]);
    await writeFile(join(root, 'ignored'), 'x');
    await sleep(200);

    expect(watch.paths()).toEqual([]);
    expect(changed).toEqual([]);
  });
});

describe('LocalTriggers with the watch', () => {
  it('puts a Source Data Changed event for a changed local source, which syncs its dSource once', async () => {
    const source = await mkdtemp(join(tmpdir(), 'snapflow-watch-source-'));
    const started: { workflow: WorkflowName; input: unknown }[] = [];
    const jobs: WorkflowStarter & JobReader = {
      start: async (workflow, input, jobId): Promise<Job> => {
        started.push({ workflow, input });
        return { id: jobId, workflow, status: 'RUNNING', input, startedAt: '', steps: [] };
      },
      get: async () => {
        throw new Error('not used');
      },
    };
    const log: string[] = [];
    const triggers = await LocalTriggers.start({
      ports: {
        engine: stubEngine({
          listDSources: async () => [records.dsource],
          listVdbs: async () => [],
          listSourceConfigs: async () => [{ ...records.sourceConfig, path: source }],
          listEnvironments: async () => [records.environment],
        }),
        workflows: jobs,
        jobs,
      },
      environment: records.environment,
      watch: true,
      log: (line) => log.push(line),
    });
    try {
      expect(triggers.watchedPaths()).toEqual([source]);
      for (let index = 0; index < 5; index += 1) await writeFile(join(source, `file-${index}`), `${index}`);

      await eventually(() => log.length > 0, WATCH_DEBOUNCE_MS + 2000);

      expect(started).toEqual([
        {
          workflow: 'sync',
          input: {
            dsourceId: records.dsource.id,
            snapshotParameters: { resync: false },
            trigger: { kind: 'event', id: expect.stringMatching(/^[0-9a-f-]{36}$/) },
          },
        },
      ]);
      expect(log).toEqual([
        expect.stringMatching(new RegExp(`^watch: ${source} changed \\(event [0-9a-f-]+\\): sync-`)),
      ]);
    } finally {
      await triggers.close();
      await rm(source, { recursive: true, force: true });
    }
  });
});
