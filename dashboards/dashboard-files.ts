// The Grafana dashboards in this folder, read as the few parts the checks need: panels with their
// grid positions and queries (ClickHouse SQL or PromQL), template variables, data source references.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

export const DASHBOARDS_DIR = fileURLToPath(new URL('./', import.meta.url));
export const CLICKHOUSE_PLUGIN = 'grafana-clickhouse-datasource';

const dataSourceRef = z.object({ type: z.string(), uid: z.string() });
export type DataSourceRef = z.infer<typeof dataSourceRef>;

const target = z.looseObject({
  refId: z.string(),
  datasource: dataSourceRef.optional(),
  rawSql: z.string().optional(),
  /** sqlds' format: 0 time series, 1 table. */
  format: z.number().optional(),
  expr: z.string().optional(),
});
export type Target = z.infer<typeof target>;

const panel = z.looseObject({
  id: z.number(),
  type: z.string(),
  title: z.string(),
  gridPos: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }),
  datasource: dataSourceRef.optional(),
  targets: z.array(target).default([]),
});
export type Panel = z.infer<typeof panel>;

const variable = z.looseObject({
  name: z.string(),
  type: z.string(),
  datasource: dataSourceRef.optional(),
  query: z.string().optional(),
  multi: z.boolean().optional(),
  includeAll: z.boolean().optional(),
});
export type Variable = z.infer<typeof variable>;

const dashboard = z.looseObject({
  uid: z.string().min(1),
  title: z.string().min(1),
  panels: z.array(panel),
  templating: z.object({ list: z.array(variable) }).default({ list: [] }),
});
export type Dashboard = z.infer<typeof dashboard>;

export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
}

/** Every dashboard JSON in `dir`, parsed; throws naming the file that is not a dashboard. */
export function loadDashboards(dir: string = DASHBOARDS_DIR): DashboardFile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const parsed = dashboard.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      if (!parsed.success) throw new Error(`${file} is not a dashboard: ${z.prettifyError(parsed.error)}`);
      return { file, dashboard: parsed.data };
    });
}

/** The data source a target queries: its own, else its panel's (Grafana's rule). */
export function targetDataSource(p: Panel, t: Target): DataSourceRef | undefined {
  return t.datasource ?? p.datasource;
}

const provisioned = z.object({
  datasources: z.array(z.object({ name: z.string(), uid: z.string(), type: z.string() })),
});

/** The data sources a Grafana provisioning file declares. */
export function provisionedDataSources(path: string): DataSourceRef[] {
  return provisioned
    .parse(parse(readFileSync(path, 'utf8')))
    .datasources.map(({ uid, type }) => ({ uid, type }));
}
