import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { listStates } from './list-states';

/**
 * Refuses definitions that aws-local-stepfunctions would run to a wrong result instead of failing:
 * JSONata and variables (ignored), Distributed Map (unsupported), `ResultPath: "$"` (written to a key
 * named `$`) and a falsy Pass `Result` (ignored). A local run must fail loudly rather than succeed
 * with data that differs from what Step Functions would produce.
 * @throws Error naming the workflow, the state and the field.
 */
export function checkLocalSupport(workflow: string, definition: StateMachineDefinition): void {
  const fail = (where: string, problem: string): never => {
    throw new Error(`Workflow ${workflow} cannot run locally: ${where} ${problem}`);
  };
  const raw = definition as unknown as Record<string, unknown>;
  if (raw.QueryLanguage === 'JSONata') fail('the definition', 'uses JSONata; write it in JSONPath');
  for (const [name, state] of listStates(definition)) {
    const fields = state as unknown as Record<string, unknown>;
    const where = `state "${name}"`;
    if (fields.QueryLanguage === 'JSONata') fail(where, 'uses JSONata; write it in JSONPath');
    if ('Assign' in fields) fail(where, 'assigns variables (Assign), which the interpreter ignores');
    if (fields.ResultPath === '$') fail(where, 'has ResultPath "$"; omit ResultPath, which means the same');
    for (const catcher of (fields.Catch ?? []) as Record<string, unknown>[]) {
      if (catcher.ResultPath === '$') fail(where, 'has a Catch with ResultPath "$"; omit it, which means the same');
      if ('Assign' in catcher) fail(where, 'has a Catch that assigns variables (Assign)');
    }
    for (const choice of (fields.Choices ?? []) as Record<string, unknown>[]) {
      if ('Assign' in choice) fail(where, 'has a Choice rule that assigns variables (Assign)');
    }
    if (state.Type === 'Map') {
      const distributed = ['ItemReader', 'ResultWriter', 'ItemBatcher'].find((field) => field in fields);
      if (distributed !== undefined) fail(where, `is a Distributed Map (${distributed}), which is not supported`);
      const processor = fields.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined;
      if (processor?.ProcessorConfig?.Mode === 'DISTRIBUTED')
        fail(where, 'is a Distributed Map, which is not supported');
    }
    if (state.Type === 'Pass' && 'Result' in fields && !fields.Result) {
      fail(where, `has Result ${JSON.stringify(fields.Result)}, which the interpreter would ignore`);
    }
  }
}
