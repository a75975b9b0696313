import type {
  LinkedSourceParameters,
  SnapshotDefinition,
  SnapshotParameters,
  SourceConfigDefinition,
  VirtualSourceParameters,
} from '../plugins/directory-tree/schemas';

/** A Unix host and how to reach it: `hostId` is the SSM managed-instance id on AWS, `local` locally. */
export interface Environment {
  id: string;
  name: string;
  hostId: string;
  createdAt: string;
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
  createdAt: string;
}

export type VdbStatus = 'PROVISIONING' | 'RUNNING';

/** A virtual dataset: a writable clone of a snapshot, mounted on a target host. */
export interface Vdb {
  id: string;
  name: string;
  parentSnapshotId: string;
  environmentId: string;
  parameters: VirtualSourceParameters;
  /** Set by `virtual.configure` once the VDB is mounted. */
  sourceConfig?: SourceConfigDefinition;
  status: VdbStatus;
  createdAt: string;
}

/** Who or what asked for a snapshot. */
export type TriggerKind = 'api' | 'event' | 'schedule' | 'workflow';

/** Where a snapshot's data came from and what it cost. */
export interface Provenance {
  trigger: { kind: TriggerKind; id?: string };
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
  createdAt: string;
  /** What the plugin's post-snapshot operation returned. */
  metadata: SnapshotDefinition;
  provenance: Provenance;
  /** Where the snapshot's tree is readable on the engine machine. */
  path: string;
}

/**
 * How a host reaches a dataset. `bind` is used when engine and host share a machine: the host
 * bind-mounts `source`, a path on the engine machine.
 */
export interface ExportSpec {
  datasetId: string;
  kind: 'bind';
  source: string;
  readOnly: boolean;
}
