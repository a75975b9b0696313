import type { HostPlan, MountPoint } from '../../core/host-plan';
import type { Environment, SourceConfig } from '../../core/model';
import type {
  LinkedSourceParameters,
  RepositoryDefinition,
  SnapshotDefinition,
  SnapshotParameters,
  SourceConfigDefinition,
  VirtualSourceParameters,
} from './schemas';

/** What the engine hands a linked-source operation (the SDK's `staged_source` and friends). */
export interface StagedSource {
  parameters: LinkedSourceParameters;
  stagingEnvironment: Environment;
  sourceConfig: SourceConfig;
}

/** What the engine hands a virtual-source operation (the SDK's `virtual_source`). */
export interface VirtualSource {
  parameters: VirtualSourceParameters;
  environment: Environment;
}

/** Source addresses that mean "the staging host itself": copy locally, without SSH. */
const LOCAL_ADDRESSES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a linked source's address names the staging host itself, so that its copy reads a local path. */
export function isLocalAddress(sourceAddress: string): boolean {
  return LOCAL_ADDRESSES.has(sourceAddress.toLowerCase());
}

/**
 * The directory-tree plugin's operations, as pure functions. Those that touch a host return a
 * {@link HostPlan}; the workflow runs it.
 */
export const operations = {
  discovery: {
    /** One fixed repository per host: the host's filesystem. */
    repository(environment: Environment): RepositoryDefinition[] {
      return [{ name: `Directory trees on ${environment.name}` }];
    },
    /** Source configs are added by hand (manual discovery). */
    sourceConfig(): SourceConfigDefinition[] {
      return [];
    },
  },

  linked: {
    mountSpecification(source: StagedSource): MountPoint {
      return { hostId: source.stagingEnvironment.hostId, mountPath: source.parameters.mountLocation };
    },

    /**
     * The copy into the staging mount, run on the staging host. Unlike the tutorial's `rsync -r`, it
     * keeps modes, times, symlinks and hard links, propagates deletions, puts the tree's contents at
     * the mount root, honours excludes, and on resync compares every file by checksum. From another
     * host it pulls over SSH with the staging environment's SSH client files, when it has them.
     */
    preSnapshot(source: StagedSource, snapshotParameters: SnapshotParameters): HostPlan {
      const { sourceAddress, username, mountLocation, excludes = [] } = source.parameters;
      const path = source.sourceConfig.path;
      const local = isLocalAddress(sourceAddress);
      const client = local ? undefined : source.stagingEnvironment.sshClient;
      return {
        document: 'copy',
        hostId: source.stagingEnvironment.hostId,
        parameters: {
          Source: [local ? path : `${username}@${sourceAddress}:${path}`],
          Destination: [mountLocation],
          Excludes: [excludes.join(',')],
          Resync: [snapshotParameters.resync ? 'true' : 'false'],
          ...(client === undefined
            ? {}
            : { SshIdentityFile: [client.identityFile], SshKnownHostsFile: [client.knownHostsFile] }),
        },
      };
    },

    postSnapshot(): SnapshotDefinition {
      return {};
    },

    /**
     * Runs on dSource disable and delete. The staging mount only exists while a sync runs, so there is
     * no per-dSource state on the staging host to clean.
     */
    stopStaging(): void {},
  },

  virtual: {
    mountSpecification(source: VirtualSource): MountPoint {
      return { hostId: source.environment.hostId, mountPath: source.parameters.mountLocation };
    },

    /** Creates the VDB's source config once its clone is mounted. */
    configure(source: VirtualSource): SourceConfigDefinition {
      const location = source.parameters.mountLocation;
      return { name: `VDB mounted at ${location}`, path: location };
    },

    reconfigure(sourceConfig: SourceConfigDefinition): SourceConfigDefinition {
      return sourceConfig;
    },

    /*
     * A directory tree has nothing to quiesce, start, stop or tear down: its only state on the host
     * is the mount, which the engine steps handle. These operations exist so that every workflow calls
     * the plugin at the points the SDK documents, and a plugin for a real application has them to fill.
     */

    /** Before the unmount in refresh, rollback, disable and delete. */
    unconfigure(): void {},
    /** Delete only, after unconfigure. */
    cleanup(): void {},
    /** After the mount in start. */
    start(): void {},
    /** Before the unmount in stop. */
    stop(): void {},
    /** Whether the dataset is up; `enable` re-attaches an INACTIVE one. */
    status(): 'ACTIVE' | 'INACTIVE' {
      return 'INACTIVE';
    },
    preSnapshot(): void {},

    postSnapshot(): SnapshotDefinition {
      return {};
    },
  },
};
