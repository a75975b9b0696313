import type { BackendName } from './args';
import type { FleetResult } from './measure-fleet';
import type { CopyVariant, ReadFloor, SyncResult } from './measure-sync';
import type { Metric } from './metrics';
import type { RunProfile } from './profile';

/** What was measured at one dataset size, raw. */
export interface SizeReport {
  size: number;
  /** `cp -a` of the dataset, each repetition. */
  copyMs: number[];
  /** The sync after each copy, which makes it durable. */
  copyFlushMs: number[];
  snapshotMs: number[];
  provisionMs: number[];
  /** Where a provision's time goes, averaged over its repetitions. */
  provisionProfile: RunProfile;
  initialSync: SyncResult;
  resyncInPlace: SyncResult;
  resyncWholeFiles: SyncResult;
  resyncChecksum: SyncResult;
  /** At the largest size: the copy step with the copy document's flags and with rsync writing changed files whole. */
  copyFlags?: { document: CopyVariant; wholeFile: CopyVariant; readFloor: ReadFloor; snapshotBytes: number };
  fleet?: FleetResult;
}

/** What was measured on one backend. */
export interface BackendReport {
  available: boolean;
  /** Why the backend was chosen, or why it could not run. */
  reason: string;
  wallMs?: number;
  fleetSize?: number;
  /** The sizes measured completely, smallest first. */
  sizes?: SizeReport[];
  /** Sizes at which a measurement failed; the run goes on with the next size. */
  failures?: { size: number; error: string }[];
  /** The provision workflow with no-op host steps, on a tiny tree. */
  orchestration?: { perTransitionMs: number; transitions: number; medianMs: number; profile: RunProfile };
}

/** The machine a run measured. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  /** Bytes of RAM. */
  memory: number;
  kernel: string;
  node: string;
  /** Filesystem type of the work directory (`stat -f -c %T`): where sources, copies and the pools live. */
  workFilesystem: string;
  /** The 1-minute load average at the start and at the end of the run: other work skews the timings. */
  loadAverage: number[];
}

/** The content of bench/results.json. */
export interface BenchResults {
  generatedAt: string;
  machine: MachineInfo;
  quick: boolean;
  /** The whole run, from start to results. */
  wallMs: number;
  /** Dataset sizes in bytes, smallest first. */
  sizes: number[];
  backends: Partial<Record<BackendName, BackendReport>>;
  metrics: Metric[];
}
