import type { StepRecord } from '../lib/local/record-steps';
import type { RouteTime } from './meters';

/** Where the time of one workflow run went. */
export interface RunProfile {
  wallMs: number;
  /** States entered, nested ones (the Run Command fragments' states) included. */
  transitions: number;
  /** In Lambda Task states: the handler, its engine calls over HTTP and the engine's work. */
  lambdaMs: number;
  /** Of which in engine API round trips (HTTP, the engine's storage commands and metadata writes). */
  engineMs: number;
  engineCalls: number;
  /** In the Run Command fragments' SSM Task states (send, poll): the host agent and the scripts. */
  hostCommandMs: number;
  /** Of which the host scripts themselves ran (sh, mount, rsync, …). */
  hostScriptMs: number;
  /** Everything else: the interpreter between states, Pass, Choice and Wait states. */
  otherMs: number;
  /** Engine time by route, e.g. `POST /vdbs`. */
  engineRoutes: Record<string, RouteTime>;
  /** CPU time of this process: interpreter, handlers, engine and host agent all run in it. */
  cpuMs: number;
  /** CPU time of the commands it ran (host scripts, btrfs, cp), in 10 ms ticks. */
  childCpuMs: number;
}

/** What a run's meters recorded. */
export interface MeterReadings {
  cpuMs: number;
  childCpuMs: number;
  hostScriptMs: number;
  engineMs: number;
  engineCalls: number;
  engineRoutes: Record<string, RouteTime>;
}

/**
 * Splits a run's wall time by what its steps did. A Task state whose name holds a dot belongs to a
 * Run Command fragment (`MountTarget.Poll`); other Task states call Lambda handlers. Parallel states
 * only contain other states and are not counted.
 */
export function profileRun(steps: readonly StepRecord[], wallMs: number, readings: MeterReadings): RunProfile {
  let lambdaMs = 0;
  let hostCommandMs = 0;
  for (const step of steps) {
    if (step.type !== 'Task') continue;
    if (step.state.includes('.')) hostCommandMs += step.durationMs ?? 0;
    else lambdaMs += step.durationMs ?? 0;
  }
  return {
    wallMs,
    transitions: steps.length,
    lambdaMs,
    engineMs: readings.engineMs,
    engineCalls: readings.engineCalls,
    hostCommandMs,
    hostScriptMs: readings.hostScriptMs,
    otherMs: Math.max(0, wallMs - lambdaMs - hostCommandMs),
    engineRoutes: readings.engineRoutes,
    cpuMs: readings.cpuMs,
    childCpuMs: readings.childCpuMs,
  };
}

/** The field-by-field mean of profiles (engine routes averaged per run too). */
export function meanProfile(profiles: readonly RunProfile[]): RunProfile {
  const count = Math.max(1, profiles.length);
  const mean = (pick: (profile: RunProfile) => number) => profiles.reduce((total, p) => total + pick(p), 0) / count;
  const engineRoutes: Record<string, RouteTime> = {};
  for (const profile of profiles)
    for (const [route, time] of Object.entries(profile.engineRoutes)) {
      const sum = engineRoutes[route] ?? { calls: 0, ms: 0 };
      engineRoutes[route] = { calls: sum.calls + time.calls / count, ms: sum.ms + time.ms / count };
    }
  return {
    wallMs: mean((p) => p.wallMs),
    transitions: mean((p) => p.transitions),
    lambdaMs: mean((p) => p.lambdaMs),
    engineMs: mean((p) => p.engineMs),
    engineCalls: mean((p) => p.engineCalls),
    hostCommandMs: mean((p) => p.hostCommandMs),
    hostScriptMs: mean((p) => p.hostScriptMs),
    otherMs: mean((p) => p.otherMs),
    engineRoutes,
    cpuMs: mean((p) => p.cpuMs),
    childCpuMs: mean((p) => p.childCpuMs),
  };
}
