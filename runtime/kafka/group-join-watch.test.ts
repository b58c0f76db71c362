import { describe, expect, it } from 'vitest';
import { GroupJoinWatch } from './group-join-watch.ts';

const settled = { state: 'up', join_state: 'steady' };
const joining = { state: 'up', join_state: 'wait-join' };

describe('GroupJoinWatch', () => {
  it('reports each change of phase once', () => {
    const watch = new GroupJoinWatch(30_000);
    expect(watch.observe({ state: 'init', join_state: 'init' }, 0)).toEqual({
      phase: 'init/init',
      changed: true,
    });
    expect(watch.observe(settled, 2_000)).toEqual({ phase: 'up/steady', changed: true });
    expect(watch.observe(settled, 4_000).changed).toBe(false);
    expect(watch.observe(joining, 6_000)).toEqual({ phase: 'up/wait-join', changed: true });
    expect(watch.observe({}, 8_000).phase).toBe('unknown/unknown');
  });

  it('says how long a member stayed unsettled, once per warning period, and forgets it once settled', () => {
    const watch = new GroupJoinWatch(30_000);
    watch.observe(settled, 0);
    expect(watch.observe(joining, 10_000).unsettledForMs).toBeUndefined();
    expect(watch.observe(joining, 39_999).unsettledForMs).toBeUndefined();
    expect(watch.observe(joining, 40_000).unsettledForMs).toBe(30_000);
    expect(watch.observe(joining, 50_000).unsettledForMs).toBeUndefined();
    // Another unsettled phase continues the same stretch.
    expect(watch.observe({ state: 'up', join_state: 'wait-sync' }, 70_000).unsettledForMs).toBe(60_000);
    watch.observe(settled, 72_000);
    expect(watch.observe(joining, 80_000).unsettledForMs).toBeUndefined();
    expect(watch.observe(joining, 110_000).unsettledForMs).toBe(30_000);
  });
});
