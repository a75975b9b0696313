import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/** One state of a definition, from any depth. */
export type AslState = StateMachineDefinition['States'][string];

/**
 * Every state of a definition with its name, including those inside Parallel branches and Map
 * processors, in definition order. State names are unique across a whole state machine, which is
 * why the interpreter's overrides can be keyed by name alone.
 */
export function listStates(definition: Pick<StateMachineDefinition, 'States'>): [string, AslState][] {
  return Object.entries(definition.States).flatMap(([name, state]): [string, AslState][] => {
    const nested =
      state.Type === 'Parallel'
        ? state.Branches
        : state.Type === 'Map'
          ? [state.ItemProcessor ?? state.Iterator].filter((processor) => processor !== undefined)
          : [];
    return [[name, state], ...nested.flatMap((child) => listStates(child))];
  });
}
