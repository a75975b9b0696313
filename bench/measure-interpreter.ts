import '../lib/local/polyfills';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { timed } from './shell';
import { median } from './stats';

type JsonInput = Parameters<StateMachine['run']>[0];

/** A chain of `count` states of one type, ending in Succeed: `S0 → S1 → … → Done`. */
export function chainDefinition(type: 'Pass' | 'Task', count: number): StateMachineDefinition {
  const states: Record<string, unknown> = {};
  for (let index = 0; index < count; index++) {
    const next = index + 1 < count ? `S${index + 1}` : 'Done';
    states[`S${index}`] =
      type === 'Pass'
        ? { Type: 'Pass', Next: next }
        : { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:noop', Next: next };
  }
  states.Done = { Type: 'Succeed' };
  return { StartAt: 'S0', States: states } as unknown as StateMachineDefinition;
}

/**
 * The ASL interpreter's own cost per state transition (aws-local-stepfunctions, as local mode runs
 * it): a chain of Pass states, and a chain of Task states whose handlers return at once.
 * @returns milliseconds per transition, the median over `repetitions` runs of `count` states each
 */
export async function measureInterpreter(count = 200, repetitions = 5): Promise<{ passMs: number; taskMs: number }> {
  const perTransition = async (type: 'Pass' | 'Task') => {
    const definition = chainDefinition(type, count);
    const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
    const handlers = Object.fromEntries(
      Object.keys(definition.States)
        .filter((name) => name !== 'Done')
        .map((name) => [name, async (input: JsonInput) => input]),
    );
    const options: RunOptions = type === 'Task' ? { overrides: { taskResourceLocalHandlers: handlers } } : {};
    const once = () => machine.run({ n: 1 }, options).result;
    await once();
    const samples: number[] = [];
    for (let index = 0; index < repetitions; index++) samples.push((await timed(once)).ms / (count + 1));
    return median(samples);
  };
  return { passMs: await perTransition('Pass'), taskMs: await perTransition('Task') };
}
