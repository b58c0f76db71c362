import { describe, expect, it } from 'vitest';
import { copyFigures, counterDelta, parsePrometheusText } from './metrics-text.ts';

// Shaped like what prom-client serves for an ingest copy (trimmed).
const INGEST = `# HELP tributary_records_total Records by topic and outcome
# TYPE tributary_records_total counter
tributary_records_total{topic="p.requests.raw",outcome="consumed",reason="",processor="ingest"} 1200
tributary_records_total{topic="p.requests.valid",outcome="emitted",reason="",processor="ingest"} 1150
tributary_records_total{topic="p.requests.dlq",outcome="dead_letter",reason="bad_json",processor="ingest"} 30
tributary_records_total{topic="p.requests.dlq",outcome="dead_letter",reason="missing_field",processor="ingest"} 12
tributary_records_total{topic="p.requests.raw",outcome="duplicate",reason="",processor="ingest"} 8

# HELP tributary_consumer_lag_records Records between what the copy consumed or committed and the last stable offset
# TYPE tributary_consumer_lag_records gauge
tributary_consumer_lag_records{topic="p.requests.raw",partition="0",processor="ingest"} 40
tributary_consumer_lag_records{topic="p.requests.raw",partition="3",processor="ingest"} 2
# TYPE tributary_assigned_partitions gauge
tributary_assigned_partitions{processor="ingest"} 3
tributary_batch_duration_seconds_bucket{le="+Inf",processor="ingest"} 7
tributary_process_cpu_seconds_total 0.52 1700000000000
`;

describe('parsePrometheusText', () => {
  it('reads names, labels and values, skipping comments and blank lines', () => {
    const samples = parsePrometheusText(INGEST);
    expect(samples).toHaveLength(10);
    expect(samples[0]).toEqual({
      name: 'tributary_records_total',
      labels: { topic: 'p.requests.raw', outcome: 'consumed', reason: '', processor: 'ingest' },
      value: 1200,
    });
    expect(samples.at(-1)).toEqual({ name: 'tributary_process_cpu_seconds_total', labels: {}, value: 0.52 });
  });

  it('unescapes quotes, backslashes and newlines in label values, commas included', () => {
    const [sample] = parsePrometheusText('m{a="say \\"hi\\", then\\\\go\\n",b="x"} +Inf\n');
    expect(sample).toEqual({ name: 'm', labels: { a: 'say "hi", then\\go\n', b: 'x' }, value: Infinity });
  });

  it('skips malformed lines instead of failing', () => {
    expect(parsePrometheusText('not a sample\nm{a="unterminated} 1\nok 2\n')).toEqual([
      { name: 'ok', labels: {}, value: 2 },
    ]);
  });
});

describe('copyFigures', () => {
  it('sums consumed records, dead letters of every reason, lag of every partition', () => {
    expect(copyFigures(parsePrometheusText(INGEST))).toEqual({
      consumed: 1200,
      deadLetters: 42,
      lag: 42,
      assignedPartitions: 3,
    });
  });

  it('counts a sink by its rows (every outcome consumed, dead_letter as dead letters)', () => {
    const sink = [
      'tributary_sink_rows_total{target="requests",outcome="written",sink="clickhouse-sink"} 900',
      'tributary_sink_rows_total{target="requests",outcome="already_stored",sink="clickhouse-sink"} 50',
      'tributary_sink_rows_total{target="requests",outcome="dead_letter",sink="clickhouse-sink"} 5',
    ].join('\n');
    expect(copyFigures(parsePrometheusText(sink))).toMatchObject({ consumed: 955, deadLetters: 5 });
  });

  it('reports lag and partitions as unknown when the process exports no such series', () => {
    expect(copyFigures([])).toEqual({
      consumed: 0,
      deadLetters: 0,
      lag: undefined,
      assignedPartitions: undefined,
    });
  });
});

describe('counterDelta', () => {
  it('is the growth since the last read, the whole value at the first read or after a reset', () => {
    expect(counterDelta(100, 250)).toBe(150);
    expect(counterDelta(undefined, 250)).toBe(250);
    expect(counterDelta(300, 20)).toBe(20);
  });
});
