import type { EngineApi } from '../ports';

/** Tells the time. Steps take it as a port so that tests can fix the time. */
export interface Clock {
  now(): Date;
}

/** What a workflow step may use: the engine's API and a clock. Handlers build these once per cold start. */
export interface StepPorts {
  engine: EngineApi;
  clock: Clock;
}
