import { describe, expect, it } from 'vitest';
import { clickhouseSink } from '../../../connectors/clickhouse/clickhouse-sink.ts';
import { boundTopics, livenessOf, skippedTopics } from './run-sink.ts';

describe("a sink's liveness", () => {
  it('goes false when the loop stops committing (a commit retried forever), though it keeps turning', () => {
    expect(livenessOf(5_000, undefined).ok).toBe(true);
    expect(livenessOf(181_000, undefined)).toEqual({
      ok: false,
      reason: 'no commit for 181000 ms with records pending',
    });
  });

  it('stays true through a store outage, which readiness reports', () => {
    expect(livenessOf(600_000, 'store unavailable for 600 s: down')).toEqual({
      ok: true,
      reason: 'store unavailable for 600 s: down',
    });
  });
});

describe("a sink's skipped topics", () => {
  it('reads every binding but the skipped ones, so requests holds each event once in the full pipeline', () => {
    const skipped = skippedTopics(clickhouseSink, ' requests.valid ');
    const bound = [...boundTopics(clickhouseSink, 'p.', skipped).keys()];
    expect(bound).toContain('p.requests.enriched');
    expect(bound).toContain('p.requests.dlq');
    expect(bound).not.toContain('p.requests.valid');
    expect(boundTopics(clickhouseSink, 'p.').has('p.requests.valid')).toBe(true);
  });

  it('refuses a topic the sink does not bind, naming the ones it does', () => {
    expect(() => skippedTopics(clickhouseSink, 'requests.vaild')).toThrow(
      expect.objectContaining({
        code: 'TRIBUTARY_CONFIG_INVALID',
        issues: [expect.objectContaining({ envVar: 'TRIBUTARY_SINK_SKIP_TOPICS' })],
      }),
    );
  });
});
