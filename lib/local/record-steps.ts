import type { StateMachine } from 'aws-local-stepfunctions';

/** One entry of the interpreter's event log. */
export type ExecutionEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/**
 * `RUNNING` until the state ends; `FAILED` when its error was neither retried nor caught, `CAUGHT`
 * when a Catch routed it; `ABORTED` when the execution ended while it ran.
 */
export type StepStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CAUGHT' | 'ABORTED';

/** One state's run, from entering it to leaving it (retries included). */
export interface StepRecord {
  state: string;
  type: string;
  /** The Map iteration it belongs to, for states inside a Map. */
  mapIndex?: number;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  status: StepStatus;
  retries: number;
  /** The last error the state raised, when it failed. */
  error?: { name: string; cause: string };
}

/**
 * Turns the interpreter's event log into step records as the events arrive, calling `onStep` each
 * time a record changes. Resolves when the log ends (with the execution); steps still running then
 * are marked `ABORTED`.
 */
export async function recordSteps(
  events: AsyncGenerator<ExecutionEvent>,
  steps: StepRecord[],
  onStep: (step: StepRecord) => void = () => undefined,
): Promise<void> {
  const open = new Map<string, StepRecord>();
  const end = (step: StepRecord, status: StepStatus, timestamp: number) => {
    step.status = status;
    step.endedAt = new Date(timestamp).toISOString();
    step.durationMs = timestamp - Date.parse(step.startedAt);
    onStep(step);
  };
  let lastTimestamp = Date.now();
  for await (const event of events) {
    lastTimestamp = event.timestamp;
    if (!('state' in event)) continue;
    const key = `${event.state.name}#${event.index ?? ''}`;
    if (event.type === 'StateEntered') {
      const step: StepRecord = {
        state: event.state.name,
        type: event.state.type,
        ...(event.index === undefined ? {} : { mapIndex: event.index }),
        startedAt: new Date(event.timestamp).toISOString(),
        status: 'RUNNING',
        retries: 0,
      };
      steps.push(step);
      open.set(key, step);
      onStep(step);
      continue;
    }
    const step = open.get(key);
    if (step === undefined) continue;
    switch (event.type) {
      case 'StateExited':
        open.delete(key);
        end(step, 'SUCCEEDED', event.timestamp);
        break;
      case 'StateFailed':
        step.error = { name: event.Error, cause: describeCause(event.Cause) };
        end(step, 'FAILED', event.timestamp);
        break;
      case 'StateRetried':
        step.retries += 1;
        step.status = 'RUNNING';
        delete step.endedAt;
        delete step.durationMs;
        onStep(step);
        break;
      case 'StateCaught':
        open.delete(key);
        end(step, 'CAUGHT', event.timestamp);
        break;
    }
  }
  for (const step of open.values()) {
    if (step.status === 'RUNNING') end(step, 'ABORTED', lastTimestamp);
  }
}

function describeCause(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause) ?? '';
}
