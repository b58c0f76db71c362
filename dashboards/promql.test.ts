// The PromQL reader on the dashboards' own kinds of expression, and the check against a real process's
// metrics registry (the one every processor serves on /metrics).
import { describe, expect, it } from 'vitest';
import { ProcessorMetrics } from '../runtime/app/processor/processor-metrics.ts';
import { checkPromQl, metricUses } from './promql.ts';
import type { DashboardFile } from './dashboard-files.ts';

describe('metricUses', () => {
  it('finds the metrics and the labels used with them, not functions, operators or grouping labels', () => {
    expect(
      metricUses('sum by (processor) (rate(tributary_records_total{outcome="consumed"}[$__rate_interval]))'),
    ).toEqual([{ metric: 'tributary_records_total', labels: ['outcome', 'processor'] }]);
    expect(
      metricUses(
        'histogram_quantile(0.99, sum by (le, processor) (rate(tributary_batch_duration_seconds_bucket[5m])))',
      ),
    ).toEqual([{ metric: 'tributary_batch_duration_seconds_bucket', labels: ['le', 'processor'] }]);
    expect(metricUses('tributary_process_resident_memory_bytes')).toEqual([
      { metric: 'tributary_process_resident_memory_bytes', labels: [] },
    ]);
  });
});

function dashboardWith(...exprs: string[]): DashboardFile[] {
  const targets = exprs.map((expr, i) => ({
    refId: String(i),
    expr,
    datasource: { type: 'prometheus', uid: 'p' },
  }));
  const panel = { id: 1, type: 'timeseries', title: 't', gridPos: { x: 0, y: 0, w: 1, h: 1 }, targets };
  return [{ file: 'x.json', dashboard: { uid: 'x', title: 'x', panels: [panel], templating: { list: [] } } }];
}

describe('checkPromQl against a real registry', () => {
  it('passes what a processor exports and names what it does not', async () => {
    const metrics = new ProcessorMetrics('ingest');
    metrics.records.inc({ topic: 'requests.raw', outcome: 'consumed', reason: '' });
    const page = await metrics.registry.metrics();
    const { problems, checked } = checkPromQl(
      [page],
      dashboardWith(
        'sum by (processor) (rate(tributary_records_total{outcome="consumed"}[1m]))',
        'sum by (region) (tributary_records_total)',
        'tributary_nonexistent_total',
        'rate(tributary_batch_duration_seconds_bucket[1m])',
      ),
    );
    expect(checked).toBe(4);
    expect(problems.map((p) => p.problem)).toEqual([
      'tributary_records_total has no label region',
      'tributary_nonexistent_total is not exported by any process',
    ]);
  });
});
