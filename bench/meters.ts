import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { HostRunner, HostScript, RunningScript } from '../lib/local/host-runner';

/**
 * Host commands as the suite sees them: every script's run time is added up, and while `noop` is on
 * scripts are not run at all but succeed at once with no output (for the orchestration overhead).
 */
export class HostCommandMeter {
  noop = false;
  scripts = 0;
  scriptMs = 0;

  wrap(runner: HostRunner): HostRunner {
    return {
      start: async (script: HostScript): Promise<RunningScript> => {
        this.scripts += 1;
        if (this.noop) {
          script.stdout.end();
          script.stderr.end();
          return { exited: Promise.resolve({ exitCode: 0, signal: null }), kill: () => undefined };
        }
        const start = performance.now();
        const running = await runner.start(script);
        return {
          exited: running.exited.finally(() => {
            this.scriptMs += performance.now() - start;
          }),
          kill: () => running.kill(),
        };
      },
    };
  }

  /** Counts from zero again. */
  reset(): void {
    this.scripts = 0;
    this.scriptMs = 0;
  }
}

/** Calls and time of one engine route. */
export interface RouteTime {
  calls: number;
  ms: number;
}

/**
 * Engine API calls as the handlers make them: this process's `fetch` is wrapped (once) so that every
 * request's round trip is timed, by method and path with ids replaced by `:id`. Only the engine is
 * fetched from in this process, so every request counts.
 */
export class EngineCallMeter {
  calls = 0;
  ms = 0;
  readonly routes = new Map<string, RouteTime>();
  private static installed: EngineCallMeter | undefined;

  /** The meter behind the global `fetch`, installed the first time. */
  static install(): EngineCallMeter {
    if (EngineCallMeter.installed !== undefined) return EngineCallMeter.installed;
    const meter = new EngineCallMeter();
    const original = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const start = performance.now();
      try {
        return await original(input, init);
      } finally {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        meter.record(`${init?.method ?? 'GET'} ${routeOf(url)}`, performance.now() - start);
      }
    };
    EngineCallMeter.installed = meter;
    return meter;
  }

  record(route: string, ms: number): void {
    this.calls += 1;
    this.ms += ms;
    const time = this.routes.get(route) ?? { calls: 0, ms: 0 };
    time.calls += 1;
    time.ms += ms;
    this.routes.set(route, time);
  }

  /** Counts from zero again. */
  reset(): void {
    this.calls = 0;
    this.ms = 0;
    this.routes.clear();
  }
}

/** The path of an engine URL with its ids (`vdb-0123456789abcdef`) replaced by `:id`. */
export function routeOf(url: string): string {
  const path = url.replace(/^[a-z]+:\/\/[^/]+/, '').replace(/\?.*$/, '');
  return path.replace(/\/[a-z]+-[0-9a-f]{8,}(?=\/|$)/g, '/:id');
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time so far of this process (the interpreter, the handlers, the engine and the host agent all
 * run in it) and of its children that have ended (host scripts, the engine's btrfs and cp commands).
 */
export function cpuTimes(): { selfMs: number; childrenMs: number } {
  const usage = process.cpuUsage();
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces; cutime and cstime are fields 16 and 17.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]);
  return { selfMs: (usage.user + usage.system) / 1000, childrenMs: (ticks * 1000) / TICKS_PER_SECOND };
}
