import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, classifyExit, describeExit, planRestart } from './backoff.ts';
import type { RestartPlan } from './backoff.ts';
import type { ProcessExit } from './processor-process.ts';

const crash: ProcessExit = { code: 1, signal: null };
const killed: ProcessExit = { code: null, signal: 'SIGKILL' };

function delays(plans: RestartPlan[]): Array<number | undefined> {
  return plans.map((p) => (p.restart ? p.delayMs : undefined));
}

/** Feeds `count` exits of a copy that ran `ranForMs` each through the policy, like the supervisor does. */
function crashLoop(count: number, ranForMs: number, exit = crash): RestartPlan[] {
  const plans: RestartPlan[] = [];
  let failures = 0;
  for (let i = 0; i < count; i++) {
    const plan = planRestart(DEFAULT_BACKOFF, failures, exit, ranForMs, false);
    plans.push(plan);
    if (plan.restart) failures = plan.consecutiveFailures;
  }
  return plans;
}

describe('planRestart', () => {
  it('waits 1 s, then doubles up to 30 s for a copy that keeps crashing', () => {
    expect(delays(crashLoop(8, 500))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('treats a kill by signal like a crash', () => {
    expect(delays(crashLoop(3, 500, killed))).toEqual([1000, 2000, 4000]);
  });

  it('starts again from 1 s once the copy had run for 60 s', () => {
    const afterLongRun = planRestart(DEFAULT_BACKOFF, 5, crash, 60_000, false);
    expect(afterLongRun).toEqual({ restart: true, delayMs: 1000, consecutiveFailures: 1, kind: 'failed' });
    const afterShortRun = planRestart(DEFAULT_BACKOFF, 5, crash, 59_999, false);
    expect(afterShortRun).toMatchObject({ delayMs: 30_000, consecutiveFailures: 6 });
  });

  it('waits the longest at once after a bad config (exit 2) or a fencing (exit 3), never hot-looping', () => {
    expect(planRestart(DEFAULT_BACKOFF, 0, { code: 2, signal: null }, 100, false)).toMatchObject({
      restart: true,
      delayMs: 30_000,
      kind: 'bad-config',
    });
    expect(planRestart(DEFAULT_BACKOFF, 0, { code: 3, signal: null }, 100, false)).toMatchObject({
      restart: true,
      delayMs: 30_000,
      kind: 'fenced',
    });
  });

  it('never restarts anything once a stop was requested, a clean exit included', () => {
    expect(planRestart(DEFAULT_BACKOFF, 0, { code: 0, signal: null }, 100, true)).toEqual({ restart: false });
    expect(planRestart(DEFAULT_BACKOFF, 0, crash, 100, true)).toEqual({ restart: false });
  });

  it('restarts a copy that exited 0 without being asked to stop (it is still wanted)', () => {
    expect(planRestart(DEFAULT_BACKOFF, 0, { code: 0, signal: null }, 100, false)).toMatchObject({
      restart: true,
      delayMs: 1000,
      kind: 'clean',
    });
  });
});

describe('classifyExit and describeExit', () => {
  it('names each exit the runtime uses', () => {
    expect(classifyExit({ code: 0, signal: null })).toBe('clean');
    expect(classifyExit({ code: 1, signal: null })).toBe('failed');
    expect(classifyExit({ code: 2, signal: null })).toBe('bad-config');
    expect(classifyExit({ code: 3, signal: null })).toBe('fenced');
    expect(classifyExit(killed)).toBe('killed');
    expect(describeExit(killed)).toBe('killed by SIGKILL');
    expect(describeExit({ code: 2, signal: null })).toMatch(/^exit 2 \(bad config/);
  });
});
