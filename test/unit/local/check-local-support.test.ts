import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { checkLocalSupport } from '../../../lib/local/check-local-support';

function definition(states: Record<string, unknown>, top: Record<string, unknown> = {}): StateMachineDefinition {
  return { StartAt: Object.keys(states)[0] ?? '', States: states, ...top } as StateMachineDefinition;
}

const pass = (fields: Record<string, unknown> = {}) => ({ Type: 'Pass', End: true, ...fields });

describe('checkLocalSupport', () => {
  it('accepts plain JSONPath definitions, nested ones included', () => {
    const nested = definition({
      Fan: { Type: 'Parallel', End: true, Branches: [definition({ A: pass({ ResultPath: '$.a' }) })] },
    });

    expect(() => checkLocalSupport('sync', nested)).not.toThrow();
  });

  it.each([
    ['JSONata at the top', definition({ A: pass() }, { QueryLanguage: 'JSONata' }), 'the definition uses JSONata'],
    ['JSONata in a state', definition({ A: pass({ QueryLanguage: 'JSONata' }) }), 'state "A" uses JSONata'],
    ['variables', definition({ A: pass({ Assign: { x: 1 } }) }), 'state "A" assigns variables'],
    ['ResultPath "$"', definition({ A: pass({ ResultPath: '$' }) }), 'state "A" has ResultPath "$"'],
    [
      'a Catch with ResultPath "$"',
      definition({
        A: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          End: true,
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'B', ResultPath: '$' }],
        },
        B: pass(),
      }),
      'state "A" has a Catch with ResultPath "$"',
    ],
    [
      'a Choice rule with Assign',
      definition({
        A: { Type: 'Choice', Choices: [{ Variable: '$.x', IsPresent: true, Next: 'B', Assign: { y: 1 } }] },
        B: pass(),
      }),
      'state "A" has a Choice rule that assigns variables',
    ],
    [
      'a Distributed Map',
      definition({ M: { Type: 'Map', End: true, ItemReader: {}, ItemProcessor: definition({ A: pass() }) } }),
      'state "M" is a Distributed Map (ItemReader)',
    ],
    [
      'a Map in DISTRIBUTED mode',
      definition({
        M: {
          Type: 'Map',
          End: true,
          ItemProcessor: { ...definition({ A: pass() }), ProcessorConfig: { Mode: 'DISTRIBUTED' } },
        },
      }),
      'state "M" is a Distributed Map',
    ],
    ['a falsy Pass Result', definition({ A: pass({ Result: 0 }) }), 'state "A" has Result 0'],
    [
      'a problem inside a Parallel branch',
      definition({
        Fan: { Type: 'Parallel', End: true, Branches: [definition({ Inner: pass({ ResultPath: '$' }) })] },
      }),
      'state "Inner" has ResultPath "$"',
    ],
  ])('refuses %s, naming the workflow and the state', (_, asl, message) => {
    expect(() => checkLocalSupport('sync', asl)).toThrow(`Workflow sync cannot run locally: ${message}`);
  });
});
