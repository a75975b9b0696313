import { execFile } from 'node:child_process';
import { lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineClient, type EngineClient } from '../../lib/adapters/engine-client';
import { findMount } from '../../lib/adapters/mount-table';
import { ErrorNames } from '../../lib/core/errors';
import type { Vdb } from '../../lib/core/model';
import { createStorageBackend } from '../../lib/engine/backends/create-storage-backend';
import { type EngineDocument, MetadataStore } from '../../lib/engine/metadata-store';
import { type EngineProcess, killGroup, startEngineProcess, waitForGroupGone } from '../support/engine-process';
import { IS_ROOT, makeTempRoot, removeTempRoot } from '../support/engine-temp-root';

/**
 * The engine as a process, killed with SIGKILL between and during mutations and started again on the
 * same root: metadata must load, every reference and every record's storage must exist, nothing may
 * be left that no record refers to, and whatever the engine acknowledged must have survived.
 */

const TOKEN = 'e2e-crash-token-0123456789abcdef';
const BACKEND = IS_ROOT ? 'btrfs' : 'dir';
const ROUNDS = 8;
const provenance = { trigger: { kind: 'api' as const }, pluginVersion: '0.1.0' };
const run = promisify(execFile);
/** The errors a mutation fired amid concurrent ones and a SIGKILL may end in. */
const EXPECTED_REFUSALS: readonly string[] = [
  ErrorNames.EngineUnavailable,
  ErrorNames.Conflict,
  ErrorNames.DatasetBusy,
  ErrorNames.DependentsExist,
  ErrorNames.NotFound,
];
const refusal = (error: unknown) => (error instanceof Error ? error.name : String(error));

/** What a mutation fired at the engine came to. */
interface Outcome {
  /**
   * `switch`: a VDB switched to an earlier timeflow; `id` is that timeflow. `lease`: `owner`'s lease
   * taken by `holder`. A create with `requestToken` is a snapshot asked for with that token.
   * `update`: the settings of dataset `id`, or the retention of snapshot `id`, changed from `before`
   * to `after` (as {@link updatedFields} reads them off the record).
   */
  kind: 'create' | 'delete' | 'switch' | 'lease' | 'update';
  /** The created record's id, the timeflow switched to, or the id a delete was for. */
  id?: string;
  /** For snapshots and timeflows: the dataset they belong to, whose deletion takes them along. */
  owner?: string;
  /** The method called, for counting what the rounds exercised. */
  method: string;
  acknowledged: boolean;
  /** Why an unacknowledged mutation was refused: the error's name. */
  refusal?: string;
  holder?: string;
  requestToken?: string;
  before?: unknown;
  after?: unknown;
  /** What the engine answered an update with, read off as `after` is. */
  answer?: unknown;
}

/** What an update outcome changed, as read off a dataset or snapshot record. */
function updatedFields(record: object): unknown {
  const { policy, eventSources, expiresAt, retainForever } = record as Record<string, unknown>;
  return { policy, eventSources, expiresAt, retainForever };
}

describe(`engine process on the ${BACKEND} backend, killed and restarted`, () => {
  let temp: string;
  let root: string;
  let current: EngineProcess | undefined;
  let environmentId: string;
  let sourceConfigId: string;
  let mountCounter = 0;
  /** A dSource snapshotted every round and never cloned nor deleted: its oldest snapshot can always go. */
  let scratchId: string;

  beforeAll(async () => {
    temp = await makeTempRoot('e2e-crash');
    root = join(temp, 'engine');
  });

  afterAll(async () => {
    try {
      if (current !== undefined) await killGroup(current.child, 'SIGKILL');
      // The killed engine left its pool mounted; destroy() unmounts it (only if it is this root's pool).
      const { backend } = await createStorageBackend({ backend: BACKEND, root });
      await backend.destroy();
    } finally {
      await removeTempRoot(temp);
    }
  });

  it(`survives ${ROUNDS} rounds of SIGKILL during and between mutations`, async () => {
    const acknowledged = new Map<string, number>();
    current = await startEngineProcess({ root, backend: BACKEND, token: TOKEN });
    let client = createEngineClient({ url: current.url, token: TOKEN });
    const environment = await client.createEnvironment({ name: 'local', hostId: 'local' });
    const sourceConfig = await client.createSourceConfig({
      environmentId: environment.id,
      name: 'data',
      path: '/srv/data',
    });
    environmentId = environment.id;
    sourceConfigId = sourceConfig.id;
    await seedTimeflows(client);

    for (let round = 0; round < ROUNDS; round += 1) {
      // Prepare: the state as the engine has it, and some data in every dataset.
      const before = await loadDocument(root);
      for (const dataset of [...before.dsources, ...before.vdbs])
        await writeFile(
          join(root, 'pool', 'datasets', dataset.currentTimeflowId, `round-${round}.txt`),
          `round ${round}`,
        );

      // Act: fire a mix of mutations, then kill the engine while they run (even rounds) or after (odd).
      const outcomes = fireMutations(client, before, round);
      if (round % 2 === 0) {
        await sleep(5 + Math.floor(Math.random() * 120));
        await killGroup(current.child, 'SIGKILL');
      }
      const settled = await Promise.all(outcomes);
      // A mutation fails because the engine died under it or because a concurrent one changed what it
      // aimed at; any other error (a crash in the client, a 500) is a bug the kill must not hide.
      for (const outcome of settled.filter((candidate) => !candidate.acknowledged))
        expect(EXPECTED_REFUSALS, `${outcome.method}: ${outcome.refusal}`).toContain(outcome.refusal);
      if (round % 2 === 1) await killGroup(current.child, 'SIGKILL');

      // Assess, on a restarted engine.
      current = await startEngineProcess({ root, backend: BACKEND, token: TOKEN });
      client = createEngineClient({ url: current.url, token: TOKEN });
      await assertConsistent(root, client, settled, current.stderr);
      for (const outcome of settled.filter((candidate) => candidate.acknowledged))
        acknowledged.set(outcome.method, (acknowledged.get(outcome.method) ?? 0) + 1);
    }

    // The mix really ran: every kind of mutation succeeded at least once across the rounds.
    expect([...acknowledged.keys()].sort()).toEqual([
      'acquireLease',
      'createDSource',
      'createTimeflow',
      'createVdb',
      'deleteDSource',
      'deleteSnapshot',
      'deleteTimeflow',
      'deleteVdb',
      'snapshotDataset',
      'switchTimeflow',
      'updateDatasetSettings',
      'updateSnapshot',
    ]);
  });

  it('refuses to delete a RUNNING VDB, and one whose timeflow a host has bind-mounted, naming the mount point', async () => {
    // Prepare: a VDB of the scratch dSource's latest snapshot, its timeflow bind-mounted as a host mounts it.
    if (current === undefined) current = await startEngineProcess({ root, backend: BACKEND, token: TOKEN });
    const client = createEngineClient({ url: current.url, token: TOKEN });
    const [snapshot] = (await client.listSnapshots({ datasetId: scratchId })).slice(-1);
    if (snapshot === undefined) throw new Error('the scratch dSource has no snapshot');
    const vdb = await client.createVdb({
      name: 'mounted',
      snapshotId: snapshot.id,
      environmentId,
      parameters: { mountLocation: '/mnt/e2e/mounted' },
    });
    const mountPoint = join(temp, 'host-mount');
    await mkdir(mountPoint);
    await run('mount', ['--bind', join(root, 'pool', 'datasets', vdb.currentTimeflowId), mountPoint]);
    try {
      // Act and assess
      await client.updateVdb(vdb.id, { status: 'RUNNING' });
      await expect(client.deleteVdb(vdb.id)).rejects.toMatchObject({
        name: ErrorNames.Conflict,
        message: expect.stringContaining('is RUNNING'),
      });
      await client.updateVdb(vdb.id, { status: 'STOPPED' });
      await expect(client.deleteVdb(vdb.id)).rejects.toMatchObject({
        name: ErrorNames.Conflict,
        message: expect.stringContaining(`is mounted at ${mountPoint}`),
      });
      expect(await client.getVdb(vdb.id)).toMatchObject({ status: 'STOPPED' });
    } finally {
      await run('umount', [mountPoint]);
    }
    await client.deleteVdb(vdb.id);
    await expect(client.getVdb(vdb.id)).rejects.toMatchObject({ name: ErrorNames.NotFound });
    expect(await client.health()).toMatchObject({ status: 'ok', inconsistencies: [] });
  });

  it('stops cleanly on SIGTERM, unmounting its pool', async () => {
    // Prepare
    if (current === undefined) current = await startEngineProcess({ root, backend: BACKEND, token: TOKEN });
    const { child } = current;
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

    // Act
    child.kill('SIGTERM');
    const code = await exited;
    await waitForGroupGone(child.pid as number);
    current = undefined;

    // Assess
    expect(code).toBe(0);
    expect(await findMount(join(root, 'pool'))).toBeUndefined();
    await expect(lstat(join(root, 'engine.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  /**
   * A start no kill interrupts, so that the first rounds already have timeflows to work on: an empty
   * dSource (first in line for deletion), the scratch dSource with a snapshot, and a dSource with two
   * snapshots whose two VDBs have a snapshot each, one of them refreshed onto a second timeflow.
   */
  async function seedTimeflows(client: EngineClient): Promise<void> {
    const dsource = (name: string) =>
      client.createDSource({
        name,
        sourceConfigId,
        stagingEnvironmentId: environmentId,
        parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: `/mnt/e2e/seed-${name}` },
      });
    await dsource('empty');
    scratchId = (await dsource('scratch')).id;
    await client.snapshotDataset(scratchId, { provenance, metadata: {} });
    const linked = await dsource('linked');
    const first = await client.snapshotDataset(linked.id, { provenance, metadata: {} });
    const second = await client.snapshotDataset(linked.id, { provenance, metadata: {} });
    for (const name of ['a', 'b']) {
      const vdb = await client.createVdb({
        name,
        snapshotId: first.id,
        environmentId,
        parameters: { mountLocation: `/mnt/e2e/seed-vdb-${name}` },
      });
      await client.snapshotDataset(vdb.id, { provenance, metadata: {} });
      if (name === 'a') await client.createTimeflow(vdb.id, { snapshotId: second.id, kind: 'refresh' });
    }
  }

  /**
   * Creates, snapshots, clones, refreshes, rolls back, switches and deletes, all at once; each promise
   * settles to what came of it.
   */
  function fireMutations(client: EngineClient, doc: EngineDocument, round: number): Promise<Outcome>[] {
    const mount = () => {
      mountCounter += 1;
      return `/mnt/e2e/${mountCounter}`;
    };
    const create = (method: string, make: () => Promise<{ id: string }>, owner?: string) =>
      make().then(
        (record): Outcome => ({
          kind: 'create',
          id: record.id,
          method,
          acknowledged: true,
          ...(owner === undefined ? {} : { owner }),
        }),
        (error: unknown): Outcome => ({ kind: 'create', method, acknowledged: false, refusal: refusal(error) }),
      );
    const remove = (method: string, id: string, drop: () => Promise<void>) =>
      drop().then(
        (): Outcome => ({ kind: 'delete', id, method, acknowledged: true }),
        (error: unknown): Outcome => ({ kind: 'delete', id, method, acknowledged: false, refusal: refusal(error) }),
      );
    const datasets = [...doc.dsources, ...doc.vdbs];
    const latestSnapshotOf = (datasetId: string) => doc.snapshots.filter((s) => s.datasetId === datasetId).at(-1);
    const operations: Promise<Outcome>[] = [];
    for (let index = 0; index < 3; index += 1)
      operations.push(
        create('createDSource', () =>
          client.createDSource({
            name: `round ${round} #${index}`,
            sourceConfigId,
            stagingEnvironmentId: environmentId,
            parameters: { sourceAddress: 'localhost', username: 'snap', mountLocation: mount() },
          }),
        ),
      );
    for (const dataset of new Set([...datasets.slice(-4), ...doc.dsources.filter((d) => d.id === scratchId)]))
      operations.push(
        create('snapshotDataset', () => client.snapshotDataset(dataset.id, { provenance, metadata: {} }), dataset.id),
      );
    // A snapshot asked for with a request token, and a lease: both must survive once acknowledged.
    const tokenTarget = datasets.at(-1);
    if (tokenTarget !== undefined) {
      const requestToken = `round ${round} snapshot`;
      operations.push(
        client.snapshotDataset(tokenTarget.id, { provenance, metadata: {}, requestToken }).then(
          (snapshot): Outcome => ({
            kind: 'create',
            id: snapshot.id,
            owner: tokenTarget.id,
            method: 'snapshotDataset',
            acknowledged: true,
            requestToken,
          }),
          (error: unknown): Outcome => ({
            kind: 'create',
            method: 'snapshotDataset',
            acknowledged: false,
            refusal: refusal(error),
          }),
        ),
      );
    }
    const leased = datasets.at(round % Math.max(1, datasets.length));
    if (leased !== undefined) {
      const holder = `round ${round}`;
      operations.push(
        client.acquireLease(leased.id, { holder, ttlSeconds: 3600 }).then(
          (): Outcome => ({ kind: 'lease', owner: leased.id, holder, method: 'acquireLease', acknowledged: true }),
          (error: unknown): Outcome => ({
            kind: 'lease',
            owner: leased.id,
            holder,
            method: 'acquireLease',
            acknowledged: false,
            refusal: refusal(error),
          }),
        ),
      );
    }
    // Settings of the newest dSource and VDB, and the retention of the newest snapshot no delete below aims at:
    // each update must survive once acknowledged, and be all or nothing when the engine died during it.
    const update = (method: string, id: string, before: object, after: object, change: () => Promise<object>) => {
      const fields = {
        kind: 'update' as const,
        id,
        method,
        before: updatedFields(before),
        after: updatedFields(after),
      };
      return change().then(
        (answer): Outcome => ({ ...fields, acknowledged: true, answer: updatedFields(answer) }),
        (error: unknown): Outcome => ({ ...fields, acknowledged: false, refusal: refusal(error) }),
      );
    };
    const policy = {
      schedule: { cron: `${round} 3 * * *`, timeZone: 'UTC' },
      retention: { hourly: 0, daily: round + 1, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
    };
    const newestDSource = doc.dsources.at(-1);
    if (newestDSource !== undefined) {
      const settings = { policy, eventSources: [{ kind: 's3' as const, bucket: 'crash-drops', prefix: `r${round}/` }] };
      operations.push(
        update('updateDatasetSettings', newestDSource.id, newestDSource, { ...newestDSource, ...settings }, () =>
          // Typed through the port, whatever EventSource type it names.
          client.updateDatasetSettings(
            newestDSource.id,
            settings as unknown as Parameters<EngineClient['updateDatasetSettings']>[1],
          ),
        ),
      );
    }
    const newestVdb = doc.vdbs.at(-1);
    if (newestVdb !== undefined)
      operations.push(
        update('updateDatasetSettings', newestVdb.id, newestVdb, { ...newestVdb, policy }, () =>
          client.updateDatasetSettings(newestVdb.id, { policy }),
        ),
      );
    const marked = doc.snapshots.filter((snapshot) => snapshot.datasetId !== scratchId).at(-1);
    if (marked !== undefined) {
      // Retained forever in even rounds; `false` leaves the field out of the record.
      const { retainForever: _, ...unmarked } = marked;
      const expiresAt = new Date(Date.UTC(2030, 0, round + 1)).toISOString();
      const after = { ...unmarked, expiresAt, ...(round % 2 === 0 ? { retainForever: true } : {}) };
      operations.push(
        update('updateSnapshot', marked.id, marked, after, () =>
          client.updateSnapshot(marked.id, { expiresAt, retainForever: round % 2 === 0 }),
        ),
      );
    }
    const clonable = doc.snapshots.filter((snapshot) => snapshot.datasetId !== scratchId);
    for (const snapshot of clonable.slice(-3))
      operations.push(
        create('createVdb', () =>
          client.createVdb({
            name: `clone of ${snapshot.id}`,
            snapshotId: snapshot.id,
            environmentId,
            parameters: { mountLocation: mount() },
          }),
        ),
      );
    const timeflowsOf = (vdb: Vdb) => doc.timeflows.filter((timeflow) => timeflow.datasetId === vdb.id);
    const withHistory = doc.vdbs.filter((vdb) => timeflowsOf(vdb).length > 1);
    // New timeflows: a refresh from the parent's latest snapshot, a rollback to the VDB's own latest.
    for (const vdb of new Set([...doc.vdbs.slice(-2), ...withHistory.slice(0, 1)])) {
      const sources = [
        ['refresh', latestSnapshotOf(vdb.parentDatasetId)],
        ['rollback', latestSnapshotOf(vdb.id)],
      ] as const;
      for (const [kind, snapshot] of sources) {
        if (snapshot === undefined) continue;
        const made = async () => (await client.createTimeflow(vdb.id, { snapshotId: snapshot.id, kind })).timeflow;
        operations.push(create('createTimeflow', made, vdb.id));
      }
    }
    // Earlier timeflows: switch back to the oldest, delete the newest (a different one, or none).
    for (const vdb of withHistory.slice(-3)) {
      const earlier = timeflowsOf(vdb).filter((timeflow) => timeflow.id !== vdb.currentTimeflowId);
      const [oldest] = earlier;
      const newest = earlier.at(-1);
      if (oldest !== undefined)
        operations.push(
          client.switchTimeflow(vdb.id, oldest.id).then(
            (): Outcome => ({
              kind: 'switch',
              id: oldest.id,
              owner: vdb.id,
              method: 'switchTimeflow',
              acknowledged: true,
            }),
            (error: unknown): Outcome => ({
              kind: 'switch',
              method: 'switchTimeflow',
              acknowledged: false,
              refusal: refusal(error),
            }),
          ),
        );
      if (newest !== undefined && newest !== oldest)
        operations.push(remove('deleteTimeflow', newest.id, () => client.deleteTimeflow(newest.id)));
    }
    // Deletes of older records beyond a few kept, so that the state still grows: the oldest, which
    // dependents usually make the engine refuse (it must survive that too), and the oldest one nothing
    // was cloned from; for snapshots, the oldest of the scratch dSource.
    const isLeaf = (datasetId: string) =>
      doc.snapshots.every(
        (snapshot) =>
          snapshot.datasetId !== datasetId ||
          doc.timeflows.every(
            (timeflow) => timeflow.parentSnapshotId !== snapshot.id || timeflow.datasetId === datasetId,
          ),
      );
    const targets = <T extends { id: string }>(records: T[], kept: number, leaf: (record: T) => boolean) => {
      const older = records.slice(0, Math.max(0, records.length - kept));
      return [...new Set([older[0], older.find(leaf)])].filter((record) => record !== undefined);
    };
    const dsources = doc.dsources.filter((dsource) => dsource.id !== scratchId);
    const snapshots = [doc.snapshots[0], doc.snapshots.find((snapshot) => snapshot.datasetId === scratchId)];
    for (const vdb of targets(doc.vdbs, 3, (record) => isLeaf(record.id)))
      operations.push(remove('deleteVdb', vdb.id, () => client.deleteVdb(vdb.id)));
    for (const snapshot of new Set(snapshots.filter((record) => record !== undefined)))
      operations.push(remove('deleteSnapshot', snapshot.id, () => client.deleteSnapshot(snapshot.id)));
    for (const dsource of targets(dsources, 2, (record) => isLeaf(record.id)))
      operations.push(remove('deleteDSource', dsource.id, () => client.deleteDSource(dsource.id)));
    return operations;
  }
});

async function loadDocument(root: string): Promise<EngineDocument> {
  const store = await MetadataStore.open(join(root, 'metadata.json'));
  expect(store.isNew).toBe(false);
  return store.document;
}

/** The checks after every restart. */
async function assertConsistent(
  root: string,
  client: EngineClient,
  outcomes: Outcome[],
  stderr: () => string,
): Promise<void> {
  const doc = await loadDocument(root);
  const ids = (records: { id: string }[]) => new Set(records.map((record) => record.id));
  const environments = ids(doc.environments);
  const sourceConfigs = ids(doc.sourceConfigs);
  const snapshots = ids(doc.snapshots);
  const timeflows = ids(doc.timeflows);
  const datasets = ids([...doc.dsources, ...doc.vdbs]);
  const timeflowOwner = new Map(doc.timeflows.map((timeflow) => [timeflow.id, timeflow.datasetId]));

  // Every reference resolves, and every dataset's current timeflow is one of its own.
  for (const sourceConfig of doc.sourceConfigs) expect(environments).toContain(sourceConfig.environmentId);
  for (const dsource of doc.dsources) {
    expect(sourceConfigs).toContain(dsource.sourceConfigId);
    expect(environments).toContain(dsource.stagingEnvironmentId);
  }
  for (const dataset of [...doc.dsources, ...doc.vdbs])
    expect(timeflowOwner.get(dataset.currentTimeflowId), dataset.id).toBe(dataset.id);
  for (const timeflow of doc.timeflows) {
    expect(datasets).toContain(timeflow.datasetId);
    if (timeflow.parentSnapshotId !== undefined) expect(snapshots).toContain(timeflow.parentSnapshotId);
  }
  for (const snapshot of doc.snapshots) {
    expect(datasets).toContain(snapshot.datasetId);
    expect(timeflowOwner.get(snapshot.timeflowId), snapshot.id).toBe(snapshot.datasetId);
  }
  for (const vdb of doc.vdbs) {
    expect(snapshots).toContain(vdb.parentSnapshotId);
    expect(environments).toContain(vdb.environmentId);
    expect(doc.timeflows.find((timeflow) => timeflow.id === vdb.currentTimeflowId)?.parentSnapshotId).toBe(
      vdb.parentSnapshotId,
    );
  }

  // Every timeflow's and snapshot's storage exists, and no storage exists without a record (no half-made
  // leftovers either): what a crash left unrecorded is set aside as .orphan-<id>, never under its id.
  const entries = async (directory: string) => (await readdir(join(root, 'pool', directory))).sort();
  const onDisk = async (directory: string) => (await entries(directory)).filter((name) => !name.startsWith('.orphan-'));
  const setAside = async (directory: string) =>
    (await entries(directory)).filter((name) => name.startsWith('.orphan-'));
  expect(await onDisk('datasets')).toEqual([...timeflows].sort());
  expect(await onDisk('snapshots')).toEqual([...snapshots].sort());
  for (const id of timeflows) expect((await lstat(join(root, 'pool', 'datasets', id))).isDirectory()).toBe(true);
  for (const id of snapshots) expect((await lstat(join(root, 'pool', 'snapshots', id))).isDirectory()).toBe(true);

  // What the engine acknowledged before dying survived, unless a delete of its dataset took it along.
  const everything = new Set([...datasets, ...timeflows, ...snapshots]);
  for (const outcome of outcomes.filter(
    (candidate) => candidate.acknowledged && candidate.kind !== 'lease' && candidate.kind !== 'update',
  )) {
    if (outcome.kind === 'delete') expect(everything, `deleted ${outcome.id}`).not.toContain(outcome.id);
    else if (outcome.owner === undefined || datasets.has(outcome.owner))
      expect(everything, `${outcome.method} ${outcome.id}`).toContain(outcome.id);
  }

  // An acknowledged update holds, as answered; one the engine died during took effect whole or not at all.
  for (const outcome of outcomes.filter((candidate) => candidate.kind === 'update')) {
    const record = [...doc.dsources, ...doc.vdbs, ...doc.snapshots].find((candidate) => candidate.id === outcome.id);
    if (record === undefined) continue;
    if (outcome.acknowledged) {
      expect(updatedFields(record), `${outcome.method} ${outcome.id}`).toEqual(outcome.after);
      expect(outcome.answer).toEqual(outcome.after);
    } else expect([outcome.before, outcome.after]).toContainEqual(updatedFields(record));
  }

  // The restarted engine agrees, and sees nothing amiss; what it set aside is no record's, and all listed.
  const health = await client.health();
  expect(health, stderr()).toMatchObject({ status: 'ok', backend: { kind: BACKEND }, inconsistencies: [] });
  for (const quarantined of health.quarantined) expect(everything).not.toContain(quarantined.id);
  expect(health.quarantined.map((quarantined) => quarantined.path).sort()).toEqual(
    [
      ...(await setAside('datasets')).map((name) => join(root, 'pool', 'datasets', name)),
      ...(await setAside('snapshots')).map((name) => join(root, 'pool', 'snapshots', name)),
    ].sort(),
  );

  // An acknowledged lease still holds the dataset, and a snapshot asked for with a token is the one a
  // repeat of the request answers. Every lease tried is released here, taken or not, for the next rounds.
  for (const outcome of outcomes.filter((candidate) => candidate.owner !== undefined)) {
    const { owner = '', holder, requestToken, acknowledged } = outcome;
    if (!datasets.has(owner)) continue;
    if (outcome.kind === 'lease' && holder !== undefined) {
      if (acknowledged)
        await expect(client.acquireLease(owner, { holder: 'checker', ttlSeconds: 60 })).rejects.toMatchObject({
          name: ErrorNames.DatasetBusy,
          message: expect.stringContaining(holder),
        });
      await client.releaseLease(owner, holder);
    }
    if (acknowledged && requestToken !== undefined && outcome.id !== undefined && snapshots.has(outcome.id))
      expect((await client.snapshotDataset(owner, { provenance, metadata: {}, requestToken })).id).toBe(outcome.id);
  }
  expect((await client.listDSources()).map((dsource) => dsource.id)).toEqual(doc.dsources.map((d) => d.id));
  expect((await client.listVdbs()).map((vdb) => vdb.id)).toEqual(doc.vdbs.map((vdb) => vdb.id));
  expect((await client.listTimeflows()).map((timeflow) => timeflow.id)).toEqual(doc.timeflows.map((t) => t.id));
  expect((await client.listSnapshots()).map((snapshot) => snapshot.id)).toEqual(doc.snapshots.map((s) => s.id));
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, milliseconds));
}
