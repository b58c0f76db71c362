// A panel's SQL as grafana-clickhouse-datasource sends it to ClickHouse, in the plugin's three steps:
//  1. frontend, CHDatasource.applyConditionalAll: `$__conditionalAll(cond, $var)` becomes `1=1` when the
//     variable is All (or empty), else `cond`;
//  2. frontend, templateSrv.replace with the plugin's formatter: `$var` / `${var}` becomes the value, an
//     array (a multi-value variable) as `'a','b'`, a single value as it is;
//  3. backend, sqlds interpolation with pkg/macros: `$__timeFilter(col)` → `col >= toDateTime(from) AND
//     col <= toDateTime(to)`, `$__timeInterval(col)` → `toStartOfInterval(toDateTime(col), INTERVAL n second)`, …
// Any other `$__name` is refused, so a panel cannot depend on something this expander would leave as is.

export interface QueryContext {
  fromMs: number;
  toMs: number;
  /** The panel's interval (Grafana: range / max data points, rounded), in ms. */
  intervalMs: number;
  /** Each variable's current value: ALL, one value, or several. */
  variables: Readonly<Record<string, VariableValue>>;
}

/** A variable on All (Grafana's own value for it). */
export const ALL = '$__all';
/** ALL, one value as it is, or a multi-value selection. */
export type VariableValue = string | readonly string[];

type Macro = (args: string[], ctx: QueryContext) => string;

const seconds = (ms: number): number => Math.floor(ms / 1000);
const dateTime = (ms: number): string => `toDateTime(${seconds(ms)})`;
const dateTime64 = (ms: number): string => `fromUnixTimestamp64Milli(${Math.floor(ms)})`;
const date = (ms: number): string => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;
const between = (column: string, from: string, to: string): string =>
  `${column} >= ${from} AND ${column} <= ${to}`;
const intervalS = (ctx: QueryContext): number => Math.max(seconds(ctx.intervalMs), 1);

/** pkg/macros/macros.go's table, name for name. */
const MACROS: Record<string, { args: number; expand: Macro }> = {
  fromTime: { args: 0, expand: (_, c) => dateTime(c.fromMs) },
  toTime: { args: 0, expand: (_, c) => dateTime(c.toMs) },
  fromTime_ms: { args: 0, expand: (_, c) => dateTime64(c.fromMs) },
  toTime_ms: { args: 0, expand: (_, c) => dateTime64(c.toMs) },
  timeFilter: { args: 1, expand: ([col = ''], c) => between(col, dateTime(c.fromMs), dateTime(c.toMs)) },
  timeFilter_ms: {
    args: 1,
    expand: ([col = ''], c) => between(col, dateTime64(c.fromMs), dateTime64(c.toMs)),
  },
  dateFilter: { args: 1, expand: ([col = ''], c) => between(col, date(c.fromMs), date(c.toMs)) },
  dateTimeFilter: { args: 2, expand: (args, c) => dateTimeFilter(args, c) },
  dt: { args: 2, expand: (args, c) => dateTimeFilter(args, c) },
  timeInterval: {
    args: 1,
    expand: ([col = ''], c) => `toStartOfInterval(toDateTime(${col}), INTERVAL ${intervalS(c)} second)`,
  },
  timeInterval_ms: {
    args: 1,
    expand: ([col = ''], c) =>
      `toStartOfInterval(toDateTime64(${col}, 3), INTERVAL ${Math.max(Math.floor(c.intervalMs), 1)} millisecond)`,
  },
  interval_s: { args: 0, expand: (_, c) => String(intervalS(c)) },
};

function dateTimeFilter([dateCol = '', timeCol = '']: string[], c: QueryContext): string {
  const dates = between(dateCol, date(c.fromMs), date(c.toMs));
  return `(${dates}) AND (${between(timeCol, dateTime(c.fromMs), dateTime(c.toMs))})`;
}

export class MacroError extends Error {
  override readonly name = 'MacroError';
}

/** The SQL ClickHouse receives for `rawSql` in `ctx`. Throws MacroError for what the plugin would refuse. */
export function expandQuery(rawSql: string, ctx: QueryContext): string {
  return expandBackendMacros(replaceVariables(applyConditionalAll(rawSql, ctx), ctx), ctx);
}

/** Arguments of a call whose `(` is at `open`: split at top-level commas; the index after its `)`. */
function callArguments(sql: string, open: number): { args: string[]; end: number } | undefined {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < sql.length; i++) {
    const ch = sql[i];
    if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) {
      args.push(sql.slice(start, i));
      return { args, end: i + 1 };
    } else if (ch === ',' && depth === 1) {
      args.push(sql.slice(start, i));
      start = i + 1;
    }
  }
  return undefined;
}

function applyConditionalAll(sql: string, ctx: QueryContext): string {
  const macro = '$__conditionalAll(';
  let out = sql;
  for (let at = out.lastIndexOf(macro); at !== -1; at = out.lastIndexOf(macro)) {
    const call = callArguments(out, at + macro.length - 1);
    if (call?.args.length !== 2) throw new MacroError(`$__conditionalAll needs (condition, $variable)`);
    const [condition = '', variable = ''] = call.args;
    const value = ctx.variables[variable.trim().replace(/^\$\{?|\}$/g, '')];
    const all = value === undefined || value === ALL || String(value) === '' || String(value) === ALL;
    out = out.slice(0, at) + (all ? '1=1' : condition) + out.slice(call.end);
  }
  return out;
}

// Grafana's variable syntax: $name, ${name}, ${name:format}, [[name]].
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;

function replaceVariables(sql: string, ctx: QueryContext): string {
  return sql.replace(VARIABLE, (match, ...groups: (string | undefined)[]) => {
    const name = groups[0] ?? groups[1] ?? groups[3] ?? '';
    const value = ctx.variables[name];
    if (value === undefined) return match; // not a variable (e.g. a $__macro): left for the backend
    if (value === ALL) throw new MacroError(`variable $${name} is All outside $__conditionalAll`);
    return typeof value === 'string' ? value : `'${value.join("','")}'`;
  });
}

const BACKEND_MACRO = /\$__(\w+)/g;

function expandBackendMacros(sql: string, ctx: QueryContext): string {
  let out = '';
  let last = 0;
  for (const match of sql.matchAll(BACKEND_MACRO)) {
    const name = match[1] ?? '';
    const macro = MACROS[name];
    if (macro === undefined) throw new MacroError(`$__${name} is not a macro of the ClickHouse plugin`);
    let end = match.index + match[0].length;
    let args: string[] = [];
    if (sql[end] === '(') {
      const call = callArguments(sql, end);
      if (call === undefined) throw new MacroError(`$__${name}( is not closed`);
      args = call.args.map((a) => a.trim());
      if (args.length === 1 && args[0] === '') args = []; // `$__fromTime()`
      end = call.end;
    }
    if (args.length !== macro.args)
      throw new MacroError(`$__${name}: expected ${macro.args} argument(s), received ${args.length}`);
    out += sql.slice(last, match.index) + macro.expand(args, ctx);
    last = end;
  }
  return out + sql.slice(last);
}
