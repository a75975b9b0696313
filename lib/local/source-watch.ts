import { type FSWatcher, watch } from 'node:fs';

/** How long a watched tree must be quiet after a change before it counts as changed. */
export const WATCH_DEBOUNCE_MS = 2000;

/** A tree that never goes quiet (a log written every second) still counts as changed this often. */
const MAX_WAIT_DEBOUNCES = 10;

/** Options of {@link SourceWatch}. */
export interface SourceWatchOptions {
  /** Told once per burst of changes under a watched path, once the path has been quiet for `debounceMs`. */
  onChange: (path: string) => void;
  /** Told when a path cannot be watched (e.g. it does not exist yet); watching goes on for the others. */
  onError: (path: string, error: unknown) => void;
  /** @default {@link WATCH_DEBOUNCE_MS} */
  debounceMs?: number;
}

interface Watched {
  watcher: FSWatcher;
  timer?: ReturnType<typeof setTimeout>;
  /** When the first change of the burst pending report came, in ms since the epoch. */
  burstSince?: number;
}

/**
 * Watches directory trees (recursively, with `fs.watch`) and reports each one that changed, debounced:
 * a burst of writes, such as a copy of many files, is reported once, after the tree has been quiet
 * for the debounce time (or, if it never goes quiet, ten debounce times after the burst began).
 */
export class SourceWatch {
  private readonly watched = new Map<string, Watched>();

  constructor(private readonly options: SourceWatchOptions) {}

  /** Watches exactly `paths` from now on: starts watching the new ones and stops watching the others. */
  set(paths: readonly string[]): void {
    for (const path of [...this.watched.keys()]) if (!paths.includes(path)) this.unwatch(path);
    for (const path of paths) if (!this.watched.has(path)) this.watch(path);
  }

  /** The paths being watched. */
  paths(): string[] {
    return [...this.watched.keys()].sort();
  }

  /** Stops watching everything; changes pending their debounce are dropped. */
  close(): void {
    for (const path of [...this.watched.keys()]) this.unwatch(path);
  }

  private watch(path: string): void {
    let watcher: FSWatcher;
    try {
      watcher = watch(path, { recursive: true, persistent: false });
    } catch (error) {
      this.options.onError(path, error);
      return;
    }
    const entry: Watched = { watcher };
    const debounceMs = this.options.debounceMs ?? WATCH_DEBOUNCE_MS;
    watcher.on('change', () => {
      if (entry.timer !== undefined) clearTimeout(entry.timer);
      entry.burstSince ??= Date.now();
      const latest = entry.burstSince + MAX_WAIT_DEBOUNCES * debounceMs;
      entry.timer = setTimeout(
        () => {
          entry.timer = undefined;
          entry.burstSince = undefined;
          this.options.onChange(path);
        },
        Math.max(0, Math.min(debounceMs, latest - Date.now())),
      );
    });
    watcher.on('error', (error) => {
      this.unwatch(path);
      this.options.onError(path, error);
    });
    this.watched.set(path, entry);
  }

  private unwatch(path: string): void {
    const entry = this.watched.get(path);
    if (entry === undefined) return;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.watcher.close();
    this.watched.delete(path);
  }
}
