import { readFile } from 'node:fs/promises';
import { ErrorNames, SnapflowError } from '../../core/errors';
import { BtrfsBackend } from './btrfs-backend';
import { DirBackend } from './dir-backend';
import { findExecutable } from './run-command';
import type { StorageBackend, StorageBackendKind } from './storage-backend';

/** A backend by name, or `auto`: btrfs where this machine can run it, dir otherwise. */
export type StorageBackendChoice = StorageBackendKind | 'auto';

/** Configuration of {@link createStorageBackend}. */
export interface StorageBackendConfig {
  backend: StorageBackendChoice;
  /** The directory the backend owns. */
  root: string;
  /**
   * Size of a new btrfs pool image.
   *
   * @default DEFAULT_POOL_SIZE_BYTES (32 GiB, sparse)
   */
  poolSizeBytes?: number;
}

/** What this machine offers the btrfs backend. */
export interface BtrfsSupport {
  isRoot: boolean;
  /** Where mkfs.btrfs is, or undefined when it is not installed. */
  mkfsBtrfs?: string;
  /** Where the btrfs tool is, or undefined when it is not installed. */
  btrfsTool?: string;
  /** Whether /proc/filesystems lists btrfs. */
  kernelHasBtrfs: boolean;
}

/** A backend kind and the sentence that explains why it was chosen. */
export interface BackendDecision {
  kind: StorageBackendKind;
  reason: string;
}

/** Checks what the btrfs backend needs: root (to loop-mount), btrfs-progs, and kernel support. */
async function probeBtrfsSupport(): Promise<BtrfsSupport> {
  const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  const mkfsBtrfs = await findExecutable('mkfs.btrfs');
  const btrfsTool = await findExecutable('btrfs');
  return {
    isRoot: process.getuid?.() === 0,
    ...(mkfsBtrfs === undefined ? {} : { mkfsBtrfs }),
    ...(btrfsTool === undefined ? {} : { btrfsTool }),
    kernelHasBtrfs: /^\S*\s+btrfs$/m.test(filesystems),
  };
}

/**
 * Picks the backend for `choice` on a machine with `support`, with a sentence saying why.
 *
 * @throws UnsupportedOperationError for an unknown choice, or for `btrfs` where it cannot run
 */
export function chooseBackend(choice: StorageBackendChoice, support: BtrfsSupport): BackendDecision {
  switch (choice) {
    case 'dir':
      return { kind: 'dir', reason: 'dir backend: chosen by configuration; snapshots and clones are full copies' };
    case 'btrfs': {
      const missing = missingForBtrfs(support);
      if (missing === undefined)
        return { kind: 'btrfs', reason: 'btrfs backend: chosen by configuration; snapshots and clones are O(1)' };
      throw new SnapflowError(ErrorNames.UnsupportedOperation, `the btrfs backend cannot run here: ${missing}`, {
        action: 'Run the engine as root on a kernel with btrfs and btrfs-progs installed, or choose the dir backend.',
        field: 'backend',
      });
    }
    case 'auto': {
      const missing = missingForBtrfs(support);
      if (missing === undefined)
        return {
          kind: 'btrfs',
          reason: `btrfs backend: running as root with ${support.mkfsBtrfs} and kernel btrfs support, so snapshots and clones are O(1)`,
        };
      return {
        kind: 'dir',
        reason: `dir backend: ${missing}; snapshots and clones are full copies (slow but correct)`,
      };
    }
    default: {
      const unknown: never = choice;
      throw new SnapflowError(ErrorNames.UnsupportedOperation, `unknown storage backend ${JSON.stringify(unknown)}`, {
        action: 'Choose one of: btrfs, dir, auto.',
        field: 'backend',
      });
    }
  }
}

/**
 * Builds the backend for `config` (not yet opened) and says why it was chosen, so that callers can
 * tell the user loudly when they got the slow dir backend.
 *
 * @throws UnsupportedOperationError for an unknown backend, or for `btrfs` where it cannot run
 */
export async function createStorageBackend(
  config: StorageBackendConfig,
): Promise<{ backend: StorageBackend; reason: string }> {
  const support: BtrfsSupport =
    config.backend === 'dir' ? { isRoot: false, kernelHasBtrfs: false } : await probeBtrfsSupport();
  const decision = chooseBackend(config.backend, support);
  const backend =
    decision.kind === 'btrfs'
      ? new BtrfsBackend({
          root: config.root,
          ...(config.poolSizeBytes === undefined ? {} : { poolSizeBytes: config.poolSizeBytes }),
        })
      : new DirBackend(config.root);
  return { backend, reason: decision.reason };
}

function missingForBtrfs(support: BtrfsSupport): string | undefined {
  if (!support.isRoot) return 'not running as root, so no loop-device btrfs pool';
  if (support.mkfsBtrfs === undefined || support.btrfsTool === undefined)
    return 'btrfs-progs (mkfs.btrfs, btrfs) is not installed';
  if (!support.kernelHasBtrfs) return 'the kernel does not list btrfs in /proc/filesystems';
  return undefined;
}
