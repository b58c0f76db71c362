// Runs every ClickHouse query of the dashboards (template variables first, then each panel's targets) the
// way Grafana's ClickHouse plugin would send it, and checks the result has the shape the panel needs:
// a time series needs a DateTime `time` column in ascending order and numeric values (string columns are
// its labels); a stat needs numbers; a pie chart a label and a number. Each panel runs twice: with every
// variable on All, and with the first value each variable's own query offers.
import type { ClickHouseClient } from '@clickhouse/client';
import { CLICKHOUSE_PLUGIN, loadDashboards, targetDataSource } from './dashboard-files.ts';
import type { Dashboard, DashboardFile, Panel } from './dashboard-files.ts';
import { ALL, expandQuery } from './macros.ts';
import type { QueryContext, VariableValue } from './macros.ts';

export interface Column {
  name: string;
  type: string;
}

export interface PanelCheck {
  dashboard: string;
  /** The panel's title, or `$name` for a template variable's query. */
  panel: string;
  selection: 'all' | 'first';
  status: 'ok' | 'failed' | 'missing_table';
  rows: number;
  columns: Column[];
  problem?: string;
  sql: string;
}

export interface CheckPanelsOptions {
  fromMs: number;
  toMs: number;
  /** Grafana's interval is the range over the panel's data points; default 1000 points. */
  maxDataPoints?: number;
  dashboards?: DashboardFile[];
}

interface Result {
  meta: Column[];
  data: unknown[][];
}

const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;
const TEXT = /^(LowCardinality\()?(Nullable\()?(String|FixedString|Enum)/;
const TIME = /^DateTime(64)?\b/;

/** Every ClickHouse query of the dashboards against `client`, one check per query and selection. */
export async function checkDashboardPanels(
  client: ClickHouseClient,
  options: CheckPanelsOptions,
): Promise<PanelCheck[]> {
  const intervalMs = Math.max(
    1000,
    Math.ceil((options.toMs - options.fromMs) / (options.maxDataPoints ?? 1000)),
  );
  const base = { fromMs: options.fromMs, toMs: options.toMs, intervalMs };
  const checks: PanelCheck[] = [];
  for (const { dashboard } of options.dashboards ?? loadDashboards()) {
    const { firstValues, variableChecks } = await runVariables(client, dashboard, base);
    checks.push(...variableChecks);
    const selections: [PanelCheck['selection'], Record<string, VariableValue>][] = [
      ['all', Object.fromEntries(dashboard.templating.list.map((v) => [v.name, ALL]))],
      ['first', firstValues],
    ];
    for (const panel of dashboard.panels)
      for (const [selection, variables] of selections)
        checks.push(...(await runPanel(client, dashboard, panel, selection, { ...base, variables })));
  }
  return checks;
}

async function runVariables(
  client: ClickHouseClient,
  dashboard: Dashboard,
  base: Omit<QueryContext, 'variables'>,
): Promise<{ firstValues: Record<string, VariableValue>; variableChecks: PanelCheck[] }> {
  const firstValues: Record<string, VariableValue> = {};
  const variableChecks: PanelCheck[] = [];
  for (const v of dashboard.templating.list) {
    if (v.datasource?.type !== CLICKHOUSE_PLUGIN || v.query === undefined) continue;
    const { check, firstColumn } = await run(client, v.query, { ...base, variables: {} }, (r) =>
      TEXT.test(r.meta[0]?.type ?? '') ? undefined : 'a variable needs a text first column',
    );
    variableChecks.push({ dashboard: dashboard.uid, panel: `$${v.name}`, selection: 'all', ...check });
    const first = firstColumn[0];
    firstValues[v.name] = typeof first === 'string' ? [first] : ALL;
  }
  return { firstValues, variableChecks };
}

async function runPanel(
  client: ClickHouseClient,
  dashboard: Dashboard,
  panel: Panel,
  selection: PanelCheck['selection'],
  ctx: QueryContext,
): Promise<PanelCheck[]> {
  const checks: PanelCheck[] = [];
  for (const target of panel.targets) {
    if (targetDataSource(panel, target)?.type !== CLICKHOUSE_PLUGIN || target.rawSql === undefined) continue;
    const shape = target.format === 0 ? timeSeriesProblem : (SHAPES[panel.type] ?? (() => undefined));
    const { check } = await run(client, target.rawSql, ctx, shape);
    checks.push({ dashboard: dashboard.uid, panel: panel.title, selection, ...check });
  }
  return checks;
}

type ShapeCheck = (result: Result) => string | undefined;

function timeSeriesProblem({ meta, data }: Result): string | undefined {
  if (meta[0]?.name !== 'time' || !TIME.test(meta[0].type))
    return 'a time series needs a DateTime `time` first';
  const rest = meta.slice(1);
  if (!rest.some((c) => NUMERIC.test(c.type))) return 'a time series needs a numeric column';
  const odd = rest.find((c) => !NUMERIC.test(c.type) && !TEXT.test(c.type));
  if (odd !== undefined) return `column ${odd.name} (${odd.type}) is neither a value nor a label`;
  const times = data.map((row) => String(row[0]));
  if (times.some((t, i) => i > 0 && t < (times[i - 1] ?? ''))) return 'rows are not in ascending time';
  return undefined;
}

const SHAPES: Record<string, ShapeCheck> = {
  stat: ({ meta }) =>
    meta.length > 0 && meta.every((c) => NUMERIC.test(c.type)) ? undefined : 'a stat needs numbers',
  piechart: ({ meta }) =>
    meta.some((c) => TEXT.test(c.type)) && meta.some((c) => NUMERIC.test(c.type))
      ? undefined
      : 'a pie chart needs a label and a number',
  table: ({ meta }) => (meta.length > 0 ? undefined : 'a table needs columns'),
};

async function run(
  client: ClickHouseClient,
  rawSql: string,
  ctx: QueryContext,
  shape: ShapeCheck,
): Promise<{ check: QueryCheck; firstColumn: unknown[] }> {
  let sql = rawSql;
  try {
    sql = expandQuery(rawSql, ctx);
    const response = await (await client.query({ query: sql, format: 'JSONCompact' })).json<unknown[]>();
    const result = { meta: response.meta ?? [], data: response.data };
    const problem = shape(result);
    const check: QueryCheck = {
      status: problem === undefined ? 'ok' : 'failed',
      rows: result.data.length,
      columns: result.meta,
      sql,
    };
    if (problem !== undefined) check.problem = problem;
    return { check, firstColumn: result.data.map((row) => row[0]) };
  } catch (error) {
    const status = isUnknownTable(error) ? 'missing_table' : 'failed';
    const problem = error instanceof Error ? error.message : String(error);
    return { check: { status, rows: 0, columns: [], sql, problem }, firstColumn: [] };
  }
}

type QueryCheck = Omit<PanelCheck, 'dashboard' | 'panel' | 'selection'>;

/** ClickHouse's UNKNOWN_TABLE (code 60): the panel reads a table this database does not have yet. */
function isUnknownTable(error: unknown): boolean {
  const { code, type } = (error ?? {}) as { code?: unknown; type?: unknown };
  return code === '60' || type === 'UNKNOWN_TABLE';
}
