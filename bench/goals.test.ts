import { describe, expect, it } from 'vitest';
import { goalsTable, judge } from './goals.ts';

describe('bench goals', () => {
  it('judges floors, ceilings and figure families, and leaves figures without a goal alone', () => {
    const verdicts = judge({
      passthrough_vs_kafka_streams: 0.62,
      ingest_ratio: 0.71,
      queryable_latency_p99_ms: 9000,
      e2e_rss_sink_mb: 500,
      e2e_rss_ingest_mb: 351,
      passthrough_events_per_s: 67_000,
    });
    const byFigure = new Map(verdicts.map((v) => [v.figure, v]));
    expect(byFigure.get('passthrough_vs_kafka_streams')).toMatchObject({ met: false, ofGoal: 0.62 });
    expect(byFigure.get('ingest_ratio')?.met).toBe(true);
    expect(byFigure.get('queryable_latency_p99_ms')).toMatchObject({ met: false, ofGoal: 4.5 });
    expect(byFigure.get('e2e_rss_sink_mb')?.met).toBe(true);
    expect(byFigure.get('e2e_rss_ingest_mb')?.met).toBe(false);
    expect(byFigure.has('passthrough_events_per_s')).toBe(false);
  });

  it('judges a goal relative to another figure only when that figure was measured', () => {
    expect(judge({ restore_read_mb: 30 })).toEqual([]);
    expect(judge({ restore_read_mb: 30, restore_state_mb: 10 })[0]).toMatchObject({
      met: false,
      ofGoal: 1.5,
    });
  });

  it('prints every figure and names each missed goal', () => {
    const out = goalsTable({
      passthrough_events_per_s: 67_600,
      aggregate_vs_kafka_streams: 0.8,
      enrich_ratio: 0.9,
      aggregate_cpu_us_per_event: 25.96,
    });
    expect(out).toContain('67,600');
    expect(out).toMatch(/aggregate_cpu_us_per_event\s*│\s*26\.0\s/);
    expect(out).toMatch(/aggregate_vs_kafka_streams.*0\.80.*MISSED/);
    expect(out).toContain('missed goals (1): aggregate_vs_kafka_streams 0.80');
    expect(goalsTable({ enrich_ratio: 0.9 })).toContain('every figure with a goal met it');
  });
});
