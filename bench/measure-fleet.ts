import { dirname } from 'node:path';
import { cpuTimes } from './meters';
import type { BenchSession } from './session';
import { exec, flush, timed } from './shell';

/** What 20 (or `count`) provisions of one snapshot, started at once, did and cost. */
export interface FleetResult {
  count: number;
  succeeded: number;
  /** From starting all of them to the last one ending. */
  wallMs: number;
  /** Error names of the runs that did not succeed, with how often each occurred. */
  failures: Record<string, number>;
  /** The first cause of each error name. */
  causes: Record<string, string>;
  /** The snapshot's own total bytes: what one full copy would take. */
  snapshotBytes: number;
  /** Exclusive bytes of the VDBs (clone and first snapshot each), summed, as the engine reports them. */
  exclusiveBytes: number;
  /** False when the backend cannot tell shared from exclusive bytes (dir: everything counts as exclusive). */
  exact: boolean;
  /** How much the pool's used space grew, metadata included. */
  poolGrowthBytes: number;
  /** CPU time the runs took in this process and in the commands they ran: on 2 cores, the bound of the wall time. */
  cpuMs: number;
  childCpuMs: number;
}

/**
 * Starts `count` provision workflows of one snapshot at once and waits for all of them; then, before
 * anything is written to them, measures what they take: the engine's exclusive bytes per VDB and the
 * growth of the pool's used space. Deletes the VDBs afterwards.
 */
export async function measureFleet(
  session: BenchSession,
  snapshotId: string,
  count: number,
  signal?: AbortSignal,
): Promise<FleetResult> {
  const { engine } = session.local;
  const pool = dirname(dirname((await engine.getSnapshot(snapshotId)).path));
  await flush(signal);
  const usedBefore = await poolUsedBytes(session.backend, pool, signal);
  const inputs = Array.from({ length: count }, (_, index) => session.provisionInput(snapshotId, `fleet-${index}`));
  const cpuBefore = cpuTimes();
  const { ms: wallMs, result: runs } = await timed(() =>
    Promise.all(inputs.map((input) => session.runWorkflow('provision', input))),
  );
  const cpuAfter = cpuTimes();
  const failures: Record<string, number> = {};
  const causes: Record<string, string> = {};
  const vdbIds: string[] = [];
  for (const run of runs) {
    if (run.status === 'SUCCEEDED') {
      vdbIds.push((run.output as { vdbId: string }).vdbId);
      continue;
    }
    const name = run.error?.name ?? run.status;
    failures[name] = (failures[name] ?? 0) + 1;
    causes[name] ??= (run.error?.cause ?? '').slice(0, 500);
  }
  await flush(signal);
  const usedAfter = await poolUsedBytes(session.backend, pool, signal);
  let exclusiveBytes = 0;
  let exact = true;
  for (const vdbId of vdbIds) {
    const space = await engine.getSpace(vdbId);
    exclusiveBytes += space.exclusiveBytes;
    exact &&= space.exact;
  }
  const snapshotBytes = (await engine.getSpace(snapshotId)).totalBytes;
  await deleteVdbsOf(session, snapshotId);
  return {
    count,
    succeeded: vdbIds.length,
    wallMs,
    failures,
    causes,
    snapshotBytes,
    exclusiveBytes,
    exact,
    poolGrowthBytes: usedAfter - usedBefore,
    cpuMs: cpuAfter.selfMs - cpuBefore.selfMs,
    childCpuMs: cpuAfter.childrenMs - cpuBefore.childrenMs,
  };
}

/**
 * Bytes in use in the pool: for btrfs, the filesystem's own `Used` (data and metadata, once deleted
 * subvolumes are cleaned up and delayed allocations are written); for dir, the blocks `du` finds allocated below the pool.
 */
async function poolUsedBytes(backend: string, pool: string, signal?: AbortSignal): Promise<number> {
  if (backend === 'btrfs') {
    // Deleted subvolumes are freed by a background cleaner, which a sync wakes; wait for it, or the
    // space of the VDBs deleted before would still count.
    await exec('btrfs', ['filesystem', 'sync', pool], signal);
    await exec('btrfs', ['subvolume', 'sync', pool], signal);
    await exec('btrfs', ['filesystem', 'sync', pool], signal);
    const usage = await exec('btrfs', ['filesystem', 'usage', '-b', pool], signal);
    const used = /^\s*Used:\s+([0-9]+)/m.exec(usage)?.[1];
    if (used === undefined) throw new Error(`btrfs filesystem usage printed no Used line:\n${usage}`);
    return Number(used);
  }
  const du = await exec('du', ['-s', '-B1', pool], signal);
  return Number(du.split(/\s/)[0]);
}

/**
 * Deletes every VDB provisioned from the snapshot, also those a failed provision left behind, trying
 * again while the engine is still busy with work the failed runs queued (for at most 10 minutes).
 */
async function deleteVdbsOf(session: BenchSession, snapshotId: string): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const left = (await session.local.engine.listVdbs()).filter((vdb) => vdb.parentSnapshotId === snapshotId);
    if (left.length === 0) return;
    const results = await Promise.allSettled(left.map((vdb) => session.deleteVdb(vdb.id)));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed === undefined) continue;
    if (Date.now() > deadline) throw failed.reason;
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}
