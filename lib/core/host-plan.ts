import type { ExportSpec } from './model';

/** The SSM documents Snapflow runs on hosts, by logical name. */
export type DocumentKind = 'check-mount-point' | 'mount' | 'unmount' | 'copy' | 'export';

/**
 * A host command to run: which document, on which host, with which parameters (in SSM's shape,
 * a list of strings per parameter). Steps return plans; the workflow's Run Command task runs them.
 */
export interface HostPlan {
  document: DocumentKind;
  hostId: string;
  parameters: Record<string, string[]>;
}

/** Where a dataset is to be mounted. */
export interface MountPoint {
  hostId: string;
  mountPath: string;
}

export function checkMountPointPlan(at: MountPoint): HostPlan {
  return { document: 'check-mount-point', hostId: at.hostId, parameters: { MountPath: [at.mountPath] } };
}

export function mountPlan(at: MountPoint, exported: ExportSpec): HostPlan {
  return {
    document: 'mount',
    hostId: at.hostId,
    parameters: {
      ExportKind: [exported.kind],
      Source: [exported.source],
      MountPath: [at.mountPath],
      Access: [exported.readOnly ? 'ro' : 'rw'],
    },
  };
}

export interface UnmountOptions {
  /**
   * Unmount only a bind of this export (its `source`): whatever else is mounted at the mount point, such
   * as what made a mount fail, is not the dataset's and stays. Without it, anything mounted there is
   * unmounted.
   */
  only?: ExportSpec;
  /** Also remove the mount point once unmounted, if it is empty. @default false */
  removeMountPoint?: boolean;
}

export function unmountPlan(at: MountPoint, options: UnmountOptions = {}): HostPlan {
  return {
    document: 'unmount',
    hostId: at.hostId,
    parameters: {
      MountPath: [at.mountPath],
      ...(options.removeMountPoint === true ? { RemoveMountPoint: ['true'] } : {}),
      ...(options.only === undefined ? {} : { Source: [options.only.source] }),
    },
  };
}
