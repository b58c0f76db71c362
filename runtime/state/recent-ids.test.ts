import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.ts';
import { ProcessorMetrics } from '../app/processor/processor-metrics.ts';
import { StateManager } from './state-manager.ts';
import type { ChangelogReader } from './state-manager.ts';
import { recentIds } from './declarations.ts';
import { PartitionRecentIds } from './recent-ids.ts';
import { IdTable } from './id-table.ts';

const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

type Record3 = [number, Buffer, Buffer | null];

/** A state manager whose changelog is an in-process log of what earlier batches committed. */
function withLog(horizonMs: number, maxIds: number, changelog: Record3[] = []) {
  const reader: ChangelogReader = (_topic, partitions, onRecord) => {
    for (const [p, k, v] of changelog) if (partitions.includes(p)) onRecord(p, k, v);
    return Promise.resolve();
  };
  const state = new StateManager({
    declarations: { seen: recentIds({ horizonMs: () => horizonMs, maxIdsPerPartition: () => maxIds }) },
    changelogTopicFor: (s) => `p.${s}.changelog`,
    readChangelog: reader,
    log,
  });
  const ids = (partition = 0): PartitionRecentIds => {
    const store = state.store('seen', partition);
    if (!(store instanceof PartitionRecentIds)) throw new TypeError('not a recent-ids store');
    return store;
  };
  /** Ends a batch as the loop does: its changelog records join the log, then it commits. */
  const commit = (): void => {
    for (const m of state.changelogMessages())
      if (m.key !== null) changelog.push([m.partition ?? 0, m.key, m.value]);
    state.commit();
  };
  return { state, ids, commit, changelog };
}

describe('recent ids (dedup store)', () => {
  it('remembers 300,000 ids of one partition for the whole 10-minute horizon, in < 16 bytes an id', async () => {
    const { state, ids, commit } = withLog(10 * MINUTE, 4_000_000);
    await state.sync([0]);
    const seen = ids();
    const total = 300_000;
    for (let i = 0; i < total; i++) {
      seen.add(`0f8e2a9c-5d4b-4c1e-9a7f-${String(i).padStart(12, '0')}`, T0 + Math.floor(i / 0.5));
      if (i % 2000 === 1999) commit();
    }
    commit();
    const last = T0 + Math.floor(total / 0.5);
    expect(seen.size).toBe(total);
    expect(seen.has('0f8e2a9c-5d4b-4c1e-9a7f-000000000000', last)).toBe(true);
    expect(seen.has('0f8e2a9c-5d4b-4c1e-9a7f-000000000000', T0 + 10 * MINUTE + 1)).toBe(true);
    expect(seen.has('0f8e2a9c-5d4b-4c1e-9a7f-000000000000', T0 + 11 * MINUTE)).toBe(false);
    expect(seen.has('never-seen', last)).toBe(false);
    expect(seen.bytes / seen.size).toBeLessThan(16);
    expect(seen.keptHorizonMs).toBe(10 * MINUTE);
  }, 60_000);

  it('rolls a rejected add back to the savepoint and an aborted batch entirely, changelog included', async () => {
    const { state, ids, commit } = withLog(10 * MINUTE, 1000);
    await state.sync([0]);
    ids().add('kept', T0);
    commit();
    ids().add('batch', T0 + 1);
    const savepoint = state.savepoint();
    ids().add('rejected', T0 + 2);
    state.rollbackTo(savepoint);
    expect(ids().has('rejected', T0 + 2)).toBe(false);
    expect(ids().has('batch', T0 + 2)).toBe(true);
    state.rollback();
    expect(ids().has('batch', T0 + 2)).toBe(false);
    expect(ids().has('kept', T0 + 2)).toBe(true);
    expect(state.changelogMessages()).toEqual([]);
  });

  it('restores exactly the ids within the horizon from a changelog whose expired buckets were tombstoned', async () => {
    const first = withLog(10 * MINUTE, 100_000);
    await first.state.sync([0, 1]);
    for (let minute = 0; minute <= 30; minute++) {
      for (let i = 0; i < 100; i++) first.ids(minute % 2).add(`m${minute}-${i}`, T0 + minute * MINUTE);
      first.commit();
    }
    const live = first.changelog.filter(([, k, v]) => {
      const later = first.changelog.findLast(([, k2]) => k2.equals(k));
      return v !== null && later?.[2] !== null;
    });
    // Compaction keeps one record per live key: the buckets of the last ~10 minutes, not 30.
    expect(live.length).toBeLessThanOrEqual(12);
    const restored = withLog(10 * MINUTE, 100_000, first.changelog);
    await restored.state.sync([0, 1]);
    for (const p of [0, 1]) expect(restored.ids(p).size).toBe(first.ids(p).size);
    expect(restored.ids(0).has('m30-7', T0 + 30 * MINUTE)).toBe(true);
    expect(restored.ids(1).has('m21-7', T0 + 30 * MINUTE)).toBe(true);
    expect(restored.ids(1).has('m19-7', T0 + 30 * MINUTE)).toBe(false);
    expect(restored.state.changelogMessages()).toEqual([]);
    // Writing on after the restore continues each bucket's chunk numbers instead of overwriting chunks.
    restored.ids(0).add('after-restore', T0 + 30 * MINUTE);
    const keys = restored.state.changelogMessages().map((m) => m.key?.toString());
    expect(keys.filter((k) => first.changelog.some(([, k2]) => k2.toString() === k))).toEqual([]);
  });

  it('says what horizon it really keeps when the cap drops buckets, and tombstones them', async () => {
    const { state, ids, commit, changelog } = withLog(10 * MINUTE, 5000);
    await state.sync([0]);
    expect(state.horizonShortfall()).toBeNull();
    for (let s = 0; s < 600; s++) {
      for (let i = 0; i < 20; i++) ids().add(`s${s}-${i}`, T0 + s * 1000);
      commit();
    }
    expect(ids().size).toBeLessThanOrEqual(5000 + 20 * 38);
    expect(ids().keptHorizonMs).toBeLessThan(5 * MINUTE);
    expect(ids().keptHorizonMs).toBeGreaterThan(3 * MINUTE);
    expect(ids().has('s0-0', T0 + 600_000)).toBe(false);
    expect(state.horizonShortfall()).toMatch(/^seen keeps (1[89]\d|2\d\d) s of its 600 s horizon$/);
    const metrics = new ProcessorMetrics('test');
    metrics.stateHorizons = () => state.horizons();
    const scraped = await metrics.registry.getSingleMetricAsString('tributary_state_horizon_seconds');
    expect(scraped).toContain(
      'tributary_state_horizon_seconds{store="seen",horizon="configured",processor="test"} 600',
    );
    expect(scraped).toMatch(
      /tributary_state_horizon_seconds\{store="seen",horizon="kept",processor="test"\} (1[89]\d|2\d\d)\b/,
    );
    expect(
      changelog.some(
        ([, k, v]) => k.toString().startsWith(`${Math.floor(T0 / 37_500) * 37_500}:`) && v === null,
      ),
    ).toBe(true);
  });

  it('tombstones at the next batch the chunks a restore found outside a now shorter horizon', async () => {
    const first = withLog(20 * MINUTE, 100_000);
    await first.state.sync([0]);
    for (let minute = 0; minute <= 15; minute++) {
      first.ids().add(`m${minute}`, T0 + minute * MINUTE);
      first.commit();
    }
    const shorter = withLog(5 * MINUTE, 100_000, first.changelog);
    await shorter.state.sync([0]);
    expect(shorter.ids().has('m5', T0 + 15 * MINUTE)).toBe(false);
    const tombstones = shorter.state.changelogMessages().filter((m) => m.value === null);
    expect(tombstones.length).toBeGreaterThanOrEqual(9);
    shorter.state.commit();
    expect(shorter.state.changelogMessages()).toEqual([]);
  });
});

describe('id table', () => {
  it('finds every member after removals shift probe runs back', () => {
    const table = new IdTable(64);
    const members = Array.from({ length: 40 }, (_, i) => [(i * 0x9e3779b9) >>> 0 || 1, i + 1] as const);
    for (const [hi, lo] of members) table.add(hi, lo);
    for (const [hi, lo] of members.filter((_, i) => i % 3 === 0)) expect(table.remove(hi, lo)).toBe(true);
    members.forEach(([hi, lo], i) => expect(table.has(hi, lo)).toBe(i % 3 !== 0));
    expect(table.size).toBe(members.length - Math.ceil(members.length / 3));
  });
});
