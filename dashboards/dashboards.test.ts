// What Grafana needs from the dashboard JSON: unique uids and panel ids, data sources that resolve to the
// provisioned ones (compose and local), panels on the 24-column grid without overlaps, every ClickHouse
// query in the plugin's SQL editor form with the time range and the variables applied through its macros.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../infra/pipeline/processor-process.ts';
import {
  CLICKHOUSE_PLUGIN,
  DASHBOARDS_DIR,
  loadDashboards,
  provisionedDataSources,
  targetDataSource,
} from './dashboard-files.ts';
import type { Panel } from './dashboard-files.ts';
import { ALL, expandQuery } from './macros.ts';
import { userStatements } from '../connectors/clickhouse/users/users.ts';

const dashboards = loadDashboards();
const panels = dashboards.flatMap(({ file, dashboard }) => dashboard.panels.map((p) => ({ file, p })));
const PROVISIONING = [
  join(REPO_ROOT, 'infra/compose/grafana/datasources.yml'),
  join(DASHBOARDS_DIR, 'local-datasources.yml'),
];
const TIME_SERIES_PANELS = new Set(['timeseries', 'state-timeline']);

function overlaps(a: Panel['gridPos'], b: Panel['gridPos']): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

describe('the dashboards', () => {
  it('are the five the issue lists, with unique uids and titles', () => {
    expect(dashboards.map((d) => d.dashboard.uid).sort()).toEqual([
      'tributary-alerts',
      'tributary-data-quality',
      'tributary-fleet',
      'tributary-pipeline',
      'tributary-service',
    ]);
    expect(new Set(dashboards.map((d) => d.dashboard.title)).size).toBe(dashboards.length);
  });

  it.each(PROVISIONING)('use only data sources that %s provisions, of the right type', (path) => {
    const known = provisionedDataSources(path);
    const used = dashboards.flatMap(({ dashboard }) => [
      ...dashboard.panels.flatMap((p) => [p.datasource, ...p.targets.map((t) => targetDataSource(p, t))]),
      ...dashboard.templating.list.map((v) => v.datasource),
    ]);
    for (const ref of used) expect(known).toContainEqual(ref);
  });

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))(
    '%s: unique panel ids, on the grid, no overlaps',
    (_, dashboard) => {
      const ids = dashboard.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const [i, a] of dashboard.panels.entries()) {
        expect(a.gridPos.w).toBeGreaterThan(0);
        expect(a.gridPos.h).toBeGreaterThan(0);
        expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
        for (const b of dashboard.panels.slice(i + 1))
          expect(overlaps(a.gridPos, b.gridPos), `${a.title} / ${b.title}`).toBe(false);
      }
    },
  );

  it('have service and region variables (multi-value, All) wherever they query ClickHouse', () => {
    for (const { file, dashboard } of dashboards) {
      const usesClickHouse = dashboard.panels.some((p) =>
        p.targets.some((t) => targetDataSource(p, t)?.type === CLICKHOUSE_PLUGIN),
      );
      if (!usesClickHouse) continue;
      for (const name of ['service', 'region']) {
        const v = dashboard.templating.list.find((x) => x.name === name);
        expect(v, `${file}: $${name}`).toMatchObject({ type: 'query', multi: true, includeAll: true });
      }
    }
  });

  it.each(panels.map(({ file, p }) => [`${file}: ${p.title}`, p] as const))(
    '%s: queries are well formed',
    (_, p) => {
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) {
        if (targetDataSource(p, t)?.type !== CLICKHOUSE_PLUGIN) {
          expect(t.expr).toMatch(/\btributary_/);
          continue;
        }
        expect(t).toMatchObject({ editorType: 'sql', format: TIME_SERIES_PANELS.has(p.type) ? 0 : 1 });
        const sql = t.rawSql ?? '';
        // The range applies through the plugin's macros, except to what is true now.
        if (!/FROM alerts_firing_now/.test(sql)) expect(sql).toMatch(/\$__timeFilter\(/);
        const context = { fromMs: 0, toMs: 3_600_000, intervalMs: 10_000 };
        expect(expandQuery(sql, { ...context, variables: { service: ALL, region: ALL } })).not.toMatch(/\$/);
        expect(expandQuery(sql, { ...context, variables: { service: ['a'], region: ['b'] } })).not.toMatch(
          /\$/,
        );
      }
    },
  );

  it('query only tables the read-only dashboard user may read (connectors/clickhouse/users/dashboard-user.sql)', () => {
    const granted = userStatements('dashboard', { database: 'tributary', password: 'x' })
      .map((g) => /^GRANT SELECT ON tributary\.(\w+) /.exec(g)?.[1])
      .filter((t) => t !== undefined);
    const sql = panels.flatMap(({ p }) => p.targets.map((t) => t.rawSql ?? ''));
    const variables = dashboards.flatMap(({ dashboard }) =>
      dashboard.templating.list.map((v) => v.query ?? ''),
    );
    const read = [...sql, ...variables].flatMap((q) =>
      [...q.matchAll(/\bFROM\s+([a-z_][a-z0-9_]*)/gi)].map((m) => m[1]),
    );
    for (const table of new Set(read.filter((t) => t !== undefined))) expect(granted).toContain(table);
  });
});
