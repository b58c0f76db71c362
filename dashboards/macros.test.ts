// The expander against grafana-clickhouse-datasource's own test vectors (pkg/macros/macros_test.go:
// the same time range gives the same SQL) and the frontend's variable handling.
import { describe, expect, it } from 'vitest';
import { ALL, MacroError, expandQuery } from './macros.ts';
import type { QueryContext } from './macros.ts';

const ctx: QueryContext = {
  fromMs: Date.parse('2014-11-12T11:45:26.123Z'),
  toMs: Date.parse('2015-11-12T11:45:26.456Z'),
  intervalMs: 20_000,
  variables: {},
};

describe('backend macros, as the plugin expands them', () => {
  it.each([
    [
      'select * from foo where $__timeFilter(cast(sth as timestamp))',
      'select * from foo where cast(sth as timestamp) >= toDateTime(1415792726) AND cast(sth as timestamp) <= toDateTime(1447328726)',
    ],
    [
      'select * from foo where $__timeFilter_ms(cast(sth as timestamp) )',
      'select * from foo where cast(sth as timestamp) >= fromUnixTimestamp64Milli(1415792726123) AND cast(sth as timestamp) <= fromUnixTimestamp64Milli(1447328726456)',
    ],
    [
      'select * from foo where ( date >= $__fromTime and date <= $__toTime ) limit 100',
      'select * from foo where ( date >= toDateTime(1415792726) and date <= toDateTime(1447328726) ) limit 100',
    ],
    [
      'select * from foo where ( date >= $__fromTime_ms ) and ( date <= $__toTime_ms ) limit 100',
      'select * from foo where ( date >= fromUnixTimestamp64Milli(1415792726123) ) and ( date <= fromUnixTimestamp64Milli(1447328726456) ) limit 100',
    ],
    ['$__dateFilter(dateCol)', "dateCol >= toDate('2014-11-12') AND dateCol <= toDate('2015-11-12')"],
    [
      '$__dt(dateCol, timeCol)',
      "(dateCol >= toDate('2014-11-12') AND dateCol <= toDate('2015-11-12')) AND (timeCol >= toDateTime(1415792726) AND timeCol <= toDateTime(1447328726))",
    ],
    [
      'select $__timeInterval(col) from foo',
      'select toStartOfInterval(toDateTime(col), INTERVAL 20 second) from foo',
    ],
    [
      'select $__timeInterval_ms(col) from foo',
      'select toStartOfInterval(toDateTime64(col, 3), INTERVAL 20000 millisecond) from foo',
    ],
    ['INTERVAL $__interval_s second', 'INTERVAL 20 second'],
  ])('%s', (raw, expected) => {
    expect(expandQuery(raw, ctx)).toBe(expected);
  });

  it('takes an interval under a second as one second, as the plugin does', () => {
    expect(expandQuery('$__interval_s', { ...ctx, intervalMs: 200 })).toBe('1');
  });

  it('refuses a macro the plugin does not have, and a wrong argument count', () => {
    expect(() => expandQuery('WHERE $__timeFrom(ts)', ctx)).toThrow(MacroError);
    expect(() => expandQuery('WHERE $__timeFilter(a, b)', ctx)).toThrow(/expected 1 argument/);
    expect(() => expandQuery('WHERE $__timeFilter(ts', ctx)).toThrow(/not closed/);
  });
});

describe('variables, as the plugin frontend replaces them', () => {
  const sql = 'WHERE $__conditionalAll(service IN (${service}), $service) AND region = $region';

  it('drops the condition for All and quotes a multi-value selection', () => {
    const all = { ...ctx, variables: { service: ALL, region: "'eu'" } };
    expect(expandQuery(sql, all)).toBe("WHERE 1=1 AND region = 'eu'");
    const two = { ...ctx, variables: { service: ['a', 'b'], region: "'eu'" } };
    expect(expandQuery(sql, two)).toBe("WHERE service IN ('a','b') AND region = 'eu'");
  });

  it('refuses All where nothing turns it into a condition', () => {
    expect(() =>
      expandQuery('WHERE service IN (${service})', { ...ctx, variables: { service: ALL } }),
    ).toThrow(/outside \$__conditionalAll/);
  });
});
