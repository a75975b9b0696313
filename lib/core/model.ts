import type {
  LinkedSourceParameters,
  SnapshotDefinition,
  SnapshotParameters,
  SourceConfigDefinition,
  VirtualSourceParameters,
} from '../plugins/directory-tree/schemas';
import type { SnapshotPolicy } from './snapshot-policy';
import type { Trigger } from './workflow-inputs';

/**
 * A Unix host and how to reach it: `hostId` is the SSM managed-instance id on AWS; in local mode it is
 * `local` for this machine or `ssh-…` for a host reached over SSH.
 */
export interface Environment {
  id: string;
  name: string;
  hostId: string;
  /** A directory on the host Snapflow may use for its own mount points (V2P exports). */
  scratchPath: string;
  /** How local mode reaches an `ssh-…` host; only those have it. */
  ssh?: SshAccess;
  /** The key and host keys this host's copies use to pull from source hosts over SSH. */
  sshClient?: SshClientFiles;
  createdAt: string;
}

/** How to reach a host's sshd: key-based, with the host's key verified against one known_hosts file. */
export interface SshAccess {
  /** The host's IP address or DNS name, as its key is listed in `knownHostsFile`. */
  address: string;
  port: number;
  /** The user host commands run as; mounting needs root. */
  user: string;
  /** A private key without a passphrase, on the machine that runs local mode. */
  identityFile: string;
  /** The only known_hosts file consulted: a host whose key is missing or different is refused. */
  knownHostsFile: string;
}

/**
 * Files on a host for SSH from it to others: the private key its copies log in to source hosts with, and
 * the known_hosts file that must list those hosts' keys. Without them ssh uses the host user's defaults.
 */
export interface SshClientFiles {
  identityFile: string;
  knownHostsFile: string;
}

/** One dataset on a host: what the plugin calls a source config. */
export interface SourceConfig extends SourceConfigDefinition {
  id: string;
  environmentId: string;
  createdAt: string;
}

/** A linked dataset: engine storage filled from a source by staged linking. */
export interface DSource {
  id: string;
  name: string;
  sourceConfigId: string;
  stagingEnvironmentId: string;
  parameters: LinkedSourceParameters;
  /** The timeflow syncs copy into and snapshot. */
  currentTimeflowId: string;
  /** When syncs run by themselves and which snapshots retention keeps. */
  policy: SnapshotPolicy;
  /** Events that start a sync besides the `Snapflow` "Source Data Changed" event naming this dSource. */
  eventSources: EventSource[];
  createdAt: string;
}

/** S3 "Object Created" events for keys under `prefix` in `bucket` start a sync. */
export interface EventSource {
  kind: 's3';
  bucket: string;
  prefix: string;
}

/** PROVISIONING until the first mount and configure succeed; STOPPED while unmounted. */
export type VdbStatus = 'PROVISIONING' | 'RUNNING' | 'STOPPED';

/** A virtual dataset: a writable clone of a snapshot, mounted on a target host. */
export interface Vdb {
  id: string;
  name: string;
  /** The dSource or VDB whose snapshot this VDB was provisioned from; refresh takes its newer snapshots. */
  parentDatasetId: string;
  /** The snapshot the current timeflow was cloned from. */
  parentSnapshotId: string;
  environmentId: string;
  parameters: VirtualSourceParameters;
  /** Set by `virtual.configure` once the VDB is mounted. */
  sourceConfig?: SourceConfigDefinition;
  status: VdbStatus;
  /** Disabled VDBs are unconfigured and unmounted; start and stop refuse them. */
  enabled: boolean;
  /** The timeflow that is mounted; refresh and rollback switch to a new one, keeping the old. */
  currentTimeflowId: string;
  /** When VDB snapshots run by themselves and which snapshots retention keeps. */
  policy: SnapshotPolicy;
  createdAt: string;
}

export type TimeflowKind = 'link' | 'provision' | 'refresh' | 'rollback';

/**
 * One line of history of a dataset, with storage of its own: a dSource has one; a VDB gets a new
 * one from every refresh and rollback, and the earlier ones stay (listed and readable) until deleted.
 */
export interface Timeflow {
  id: string;
  /** The dSource or VDB it belongs to. */
  datasetId: string;
  kind: TimeflowKind;
  /** The snapshot it was cloned from; absent for a dSource's timeflow. */
  parentSnapshotId?: string;
  createdAt: string;
  /** Where the timeflow's current tree is readable on the engine machine. */
  path: string;
}

/** Space a dataset, timeflow or snapshot takes, as far as the backend can tell. */
export interface Space {
  id: string;
  /** Bytes of data referenced. */
  totalBytes: number;
  /** Bytes only this object references: what deleting it would free. */
  exclusiveBytes: number;
  /** Bytes shared with other snapshots or clones. */
  sharedBytes: number;
  /** False when the backend cannot tell shared from exclusive (e.g. `dir` counts everything as exclusive). */
  exact: boolean;
}

/** Something that stops an object from being deleted. */
export interface Dependent {
  /** `sourceConfig` and `dsource` only block deleting an environment. */
  kind: 'sourceConfig' | 'dsource' | 'vdb' | 'timeflow' | 'snapshot';
  id: string;
  /** Why it depends, e.g. "VDB vdb-… was provisioned from snapshot snap-…". */
  reason: string;
}

/** Where a snapshot's data came from and what it cost. */
export interface Provenance {
  /** Who or what asked for the snapshot. */
  trigger: Trigger;
  /** Files and bytes the copy step transferred; absent for snapshots of a VDB. */
  filesTransferred?: number;
  bytesTransferred?: number;
  durationMs?: number;
  pluginVersion: string;
  snapshotParameters?: SnapshotParameters;
}

/** A read-only point in time of a dSource or a VDB. */
export interface Snapshot {
  id: string;
  /** The dSource or VDB this snapshot belongs to. */
  datasetId: string;
  /** The timeflow it was taken of. */
  timeflowId: string;
  createdAt: string;
  /** What the plugin's post-snapshot operation returned. */
  metadata: SnapshotDefinition;
  provenance: Provenance;
  /** Where the snapshot's tree is readable on the engine machine. */
  path: string;
  /** After this instant retention may delete it (unless newest, pinned or retained forever). */
  expiresAt?: string;
  /** Retention never deletes it. */
  retainForever?: boolean;
}

/**
 * How a host reaches a dataset. `bind` is used when engine and host share a machine: the host
 * bind-mounts `source`, a path on the engine machine.
 */
export interface ExportSpec {
  /** The dataset (its current timeflow) or snapshot exported. */
  datasetId: string;
  kind: 'bind';
  source: string;
  readOnly: boolean;
}

/** Who may change a dataset right now: one workflow run at a time. */
export interface Lease {
  datasetId: string;
  /** The run holding it, e.g. an execution ARN. */
  holder: string;
  expiresAt: string;
}
