import type { BackendName } from './args';
import { GiB, MiB } from './units';

/** The sizes and repetitions of one run. */
export interface BenchPlan {
  quick: boolean;
  /** Dataset sizes, smallest first; size-independence compares the last with the first. */
  sizes: number[];
  /**
   * The size at which 20 VDBs are provisioned at once and their storage measured. On `dir` every VDB
   * is two full copies (the clone and its first snapshot) made one at a time under the engine's lock,
   * so 20 at once take 40 copies end to end: `dir` is measured at 400 MiB in a full run (about 10 s a
   * copy here, within the steps' 280 s wait for the engine), at 4 MiB in a quick one.
   */
  fleetSize: Record<BackendName, number>;
  /** How many VDBs are provisioned at once. */
  fleet: number;
}

/** The plan of a full or a quick run. */
export function benchPlan(quick: boolean): BenchPlan {
  if (quick) return { quick, sizes: [4 * MiB, 64 * MiB], fleetSize: { btrfs: 64 * MiB, dir: 4 * MiB }, fleet: 20 };
  return {
    quick,
    sizes: [4 * MiB, 400 * MiB, 4 * GiB],
    fleetSize: { btrfs: 4 * GiB, dir: 400 * MiB },
    fleet: 20,
  };
}

/** What is timed more than once, and its median reported. */
export type RepeatedMeasurement = 'copy' | 'snapshot' | 'provision';

/**
 * How often a measurement is repeated: often where it is cheap, rarely where each repetition is a
 * multi-gigabyte copy (the baseline at 4 GiB, and every snapshot and clone on `dir`).
 */
export function repetitions(
  plan: Pick<BenchPlan, 'quick'>,
  what: RepeatedMeasurement,
  backend: BackendName,
  size: number,
): number {
  if (what === 'copy') {
    if (plan.quick) return size <= 4 * MiB ? 3 : 2;
    return size <= 64 * MiB ? 5 : 3;
  }
  if (backend === 'btrfs') return plan.quick ? 5 : 11;
  if (plan.quick) return size <= 4 * MiB ? 3 : 1;
  return size <= 64 * MiB ? 5 : size <= 512 * MiB ? 3 : 1;
}

/** Provisions with no-op host steps, for the orchestration overhead. */
export function orchestrationRepetitions(plan: Pick<BenchPlan, 'quick'>): number {
  return plan.quick ? 5 : 15;
}
