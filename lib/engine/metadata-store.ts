import { open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorNames, SnapflowError } from '../core/errors';
import type { DSource, Environment, Snapshot, SourceConfig, Vdb } from '../core/model';

/** Everything the engine records, as one JSON document. */
export interface EngineDocument {
  /** Format version, for migrations. */
  version: 1;
  environments: Environment[];
  sourceConfigs: SourceConfig[];
  dsources: DSource[];
  snapshots: Snapshot[];
  vdbs: Vdb[];
}

const COLLECTIONS = ['environments', 'sourceConfigs', 'dsources', 'snapshots', 'vdbs'] as const;

/** A document with no records. */
export function emptyDocument(): EngineDocument {
  return { version: 1, environments: [], sourceConfigs: [], dsources: [], snapshots: [], vdbs: [] };
}

/**
 * The engine's durable metadata: one JSON file, replaced atomically on every write (temporary file,
 * fsync, rename, fsync of the directory), so that a crash at any moment leaves the old document or the
 * new one, never a mix. One writer at a time: the engine serializes its mutations.
 */
export class MetadataStore {
  private current: EngineDocument;
  private onDisk: boolean;

  private constructor(
    /** The metadata file. */
    readonly path: string,
    document: EngineDocument,
    onDisk: boolean,
  ) {
    this.current = document;
    this.onDisk = onDisk;
  }

  /** True until the first write when there was no file: the store has never been written. */
  get isNew(): boolean {
    return !this.onDisk;
  }

  /**
   * Loads the document at `path`, or starts an empty one when there is no file yet.
   *
   * @throws StorageError when the file exists but is not an engine document
   */
  static async open(path: string): Promise<MetadataStore> {
    // A temporary file is a write that never got renamed: the document it held was never committed.
    await rm(temporaryPath(path), { force: true });
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new MetadataStore(path, emptyDocument(), false);
      throw storageError(`cannot read the engine metadata at ${path}`, error);
    }
    return new MetadataStore(path, parseDocument(text, path), true);
  }

  /** The last document written or loaded. Treat it as immutable: write a new one instead. */
  get document(): EngineDocument {
    return this.current;
  }

  /**
   * Replaces the document durably; it is current once this resolves.
   *
   * @throws StorageError when the file cannot be written
   */
  async write(next: EngineDocument): Promise<void> {
    const temporary = temporaryPath(this.path);
    try {
      const file = await open(temporary, 'w', 0o600);
      try {
        await file.writeFile(`${JSON.stringify(next, null, 2)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, this.path);
      // The rename lives in the directory; without this fsync a crash could forget it.
      const directory = await open(dirname(this.path), 'r');
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
    } catch (error) {
      throw storageError(`cannot write the engine metadata at ${this.path}`, error);
    }
    this.current = next;
    this.onDisk = true;
  }
}

function temporaryPath(path: string): string {
  return `${path}.tmp`;
}

function parseDocument(text: string, path: string): EngineDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw storageError(`the engine metadata at ${path} is not valid JSON`, error);
  }
  const document = value as Partial<Record<string, unknown>> | null;
  const valid =
    document !== null &&
    typeof document === 'object' &&
    document.version === 1 &&
    COLLECTIONS.every((name) => Array.isArray(document[name]));
  if (valid) return document as unknown as EngineDocument;
  throw storageError(`the engine metadata at ${path} is not a version 1 engine document`, undefined);
}

function storageError(message: string, cause: unknown): SnapflowError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new SnapflowError(
    ErrorNames.Storage,
    `${message}${detail}`,
    {
      action:
        'Check the file and its directory (permissions, free space). Restore a damaged file from a backup; ' +
        'do not delete it, or the engine would treat all storage as unreferenced.',
    },
    { cause },
  );
}
