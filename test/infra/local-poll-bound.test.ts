import { describe, expect, it } from 'vitest';
import { listStates } from '../../lib/local/list-states';
import { localPollWaitMs } from '../../lib/local/poll-wait';
import { snapflowTemplate } from '../support/snapflow-template';

/** The poll-count threshold inside a Run Command `<Id>.Check` Choice. */
function pollThreshold(choice: unknown): number | undefined {
  if (choice === null || typeof choice !== 'object') return undefined;
  const node = choice as Record<string, unknown>;
  if (node.Variable === '$.command.Polls' && typeof node.NumericGreaterThanEquals === 'number')
    return node.NumericGreaterThanEquals;
  for (const child of Object.values(node)) {
    const found = Array.isArray(child) ? child.map(pollThreshold).find((n) => n !== undefined) : pollThreshold(child);
    if (found !== undefined) return found;
  }
  return undefined;
}

describe('Run Command poll bounds in local mode', () => {
  const { resolved } = snapflowTemplate();
  const pollSeconds = localPollWaitMs(resolved) / 1000;
  const loops = Object.entries(resolved.workflows).flatMap(([workflow, machine]) => {
    const states = new Map(listStates(machine.definition));
    return [...states.keys()]
      .filter((name) => name.endsWith('.Check'))
      .map((check) => {
        const id = check.slice(0, -'.Check'.length);
        const send = states.get(`${id}.Send`) as { Parameters?: { DocumentName?: string; TimeoutSeconds?: number } };
        const document = Object.values(resolved.documents).find((d) => d.name === send.Parameters?.DocumentName);
        return {
          loop: `${workflow} ${id}`,
          threshold: pollThreshold(states.get(check)),
          deliverySeconds: send.Parameters?.TimeoutSeconds,
          executionSeconds: Number(document?.content.mainSteps[0]?.inputs.timeoutSeconds),
        };
      });
  });

  it('finds every poll loop with its bound and timeouts', () => {
    expect(loops.length).toBeGreaterThanOrEqual(7);
    for (const loop of loops) {
      expect(loop.threshold, loop.loop).toBeGreaterThan(0);
      expect(loop.deliverySeconds, loop.loop).toBeGreaterThan(0);
      expect(loop.executionSeconds, loop.loop).toBeGreaterThan(0);
    }
  });

  it('never ends a command before its document timeout: polls × local poll wait ≥ delivery + execution', () => {
    for (const loop of loops)
      expect((loop.threshold ?? 0) * pollSeconds, loop.loop).toBeGreaterThanOrEqual(
        (loop.deliverySeconds ?? 0) + (loop.executionSeconds ?? 0),
      );
  });
});
