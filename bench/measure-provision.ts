import { meanProfile, profileRun, type RunProfile } from './profile';
import type { BenchSession } from './session';
import { flush, timed } from './shell';
import { median } from './stats';

/**
 * Times the provision workflow end to end (plan, mount-point check, clone, mount, configure, first
 * VDB snapshot), each run on a flushed system. Every VDB is deleted again (delete-vdb, not timed).
 * @returns the median wall time in milliseconds and the mean profile of the runs
 */
export async function measureProvisions(
  session: BenchSession,
  snapshotId: string,
  repetitions: number,
  signal?: AbortSignal,
): Promise<{ medianMs: number; samplesMs: number[]; profile: RunProfile }> {
  const samplesMs: number[] = [];
  const profiles: RunProfile[] = [];
  for (let index = 0; index < repetitions; index++) {
    await flush(signal);
    const input = session.provisionInput(snapshotId, `bench-${index}`);
    session.resetMeters();
    const { ms, result: run } = await timed(() => session.mustRun('provision', input));
    samplesMs.push(ms);
    profiles.push(profileRun(run.steps, ms, session.readings()));
    await session.deleteVdb((run.output as { vdbId: string }).vdbId);
  }
  return { medianMs: median(samplesMs), samplesMs, profile: meanProfile(profiles) };
}

/**
 * The provision workflow with every host step a no-op (scripts succeed at once without running), on
 * a snapshot of a tiny tree: what the orchestration costs per state transition, the engine's calls
 * (clone, snapshot, metadata writes) included; the profile says how much of it the engine took.
 */
export async function measureOrchestration(
  session: BenchSession,
  snapshotId: string,
  repetitions: number,
): Promise<{ perTransitionMs: number; transitions: number; medianMs: number; profile: RunProfile }> {
  const samplesMs: number[] = [];
  const profiles: RunProfile[] = [];
  session.meter.noop = true;
  try {
    for (let index = 0; index < repetitions; index++) {
      const input = session.provisionInput(snapshotId, `noop-${index}`);
      session.resetMeters();
      const { ms, result: run } = await timed(() => session.mustRun('provision', input));
      samplesMs.push(ms);
      profiles.push(profileRun(run.steps, ms, session.readings()));
      await session.deleteVdb((run.output as { vdbId: string }).vdbId);
    }
  } finally {
    session.meter.noop = false;
  }
  const profile = meanProfile(profiles);
  const medianMs = median(samplesMs);
  return { perTransitionMs: medianMs / profile.transitions, transitions: profile.transitions, medianMs, profile };
}
