import { describe, expect, it } from 'vitest';
import { routeOf } from '../../../bench/meters';
import { meanProfile, profileRun } from '../../../bench/profile';
import { median } from '../../../bench/stats';
import type { StepRecord } from '../../../lib/local/record-steps';

const step = (state: string, type: string, durationMs: number): StepRecord => ({
  state,
  type,
  startedAt: '2025-01-01T00:00:00.000Z',
  durationMs,
  status: 'SUCCEEDED',
  retries: 0,
});

describe('profileRun', () => {
  it('tells Lambda tasks from the Run Command fragments’ tasks and leaves the rest to the interpreter', () => {
    const steps = [
      step('PlanProvision', 'Task', 5),
      step('MountTarget', 'Parallel', 14),
      step('MountTarget.Send', 'Task', 2),
      step('MountTarget.Poll', 'Task', 11),
      step('MountTarget.Check', 'Choice', 0),
      step('CreateVdb', 'Task', 10),
    ];
    const readings = { cpuMs: 30, childCpuMs: 10, hostScriptMs: 9, engineMs: 12, engineCalls: 3, engineRoutes: {} };
    expect(profileRun(steps, 40, readings)).toMatchObject({
      transitions: 6,
      lambdaMs: 15,
      hostCommandMs: 13,
      otherMs: 12,
      engineMs: 12,
    });
  });

  it('averages profiles, engine routes included', () => {
    const base = profileRun([], 10, {
      cpuMs: 5,
      childCpuMs: 0,
      hostScriptMs: 0,
      engineMs: 4,
      engineCalls: 2,
      engineRoutes: { 'POST /vdbs': { calls: 1, ms: 4 } },
    });
    const mean = meanProfile([base, { ...base, wallMs: 20, engineRoutes: {} }]);
    expect(mean.wallMs).toBe(15);
    expect(mean.engineRoutes['POST /vdbs']).toEqual({ calls: 0.5, ms: 2 });
  });
});

describe('routeOf', () => {
  it('replaces ids in engine paths', () => {
    expect(routeOf('http://127.0.0.1:4100/vdbs/vdb-0123456789abcdef/snapshots?x=1')).toBe('/vdbs/:id/snapshots');
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(() => median([])).toThrow();
  });
});
