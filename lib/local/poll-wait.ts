import { listStates } from './list-states';
import type { ResolvedTemplate } from './resolve-template';

/**
 * How long the host agent should hold a poll for a running command in local mode: the longest Wait
 * of any workflow. Local mode runs Wait states in 0 ms, so a Run Command poll loop's bound (a count
 * of polls, sized for the declared wait between them) would otherwise run out long before the
 * command's own timeout. Holding each poll at least as long as any declared wait keeps the bound
 * at least as lenient as on AWS.
 */
export function localPollWaitMs(template: ResolvedTemplate): number {
  const waits = Object.values(template.workflows).flatMap((workflow) =>
    listStates(workflow.definition).map(([, state]) =>
      state.Type === 'Wait' && typeof state.Seconds === 'number' ? state.Seconds : 0,
    ),
  );
  return Math.max(1, ...waits) * 1000;
}
