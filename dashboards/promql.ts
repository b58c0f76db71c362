// Checks the dashboards' PromQL against what the processes really export: every metric an expression names
// must be declared on a live /metrics page of some process, and every label it filters or groups by must
// appear on that metric's samples (job and instance are Prometheus' own target labels).
import { parsePrometheusText } from '../infra/pipeline/metrics-text.ts';
import { loadDashboards, targetDataSource } from './dashboard-files.ts';
import type { DashboardFile } from './dashboard-files.ts';

export interface MetricUse {
  metric: string;
  labels: string[];
}

const TARGET_LABELS = new Set(['job', 'instance']);
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);

/** The metrics an expression reads and the label names used with them (matchers and by/without clauses). */
export function metricUses(expr: string): MetricUse[] {
  const cleaned = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\[[^\]]*\]/g, '');
  const grouping = [...cleaned.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean),
  );
  const uses: MetricUse[] = [];
  for (const m of cleaned.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?/g)) {
    const [, name = '', matchers, call] = m;
    const after = cleaned.slice(m.index + m[0].length);
    if (call !== undefined || KEYWORDS.has(name) || /^(by|without)\b/.test(after)) continue; // a function, an operator
    if (grouping.includes(name) && matchers === undefined) continue; // a label inside by (...)
    const matched = [...(matchers ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map(
      (x) => x[1] ?? '',
    );
    uses.push({ metric: name, labels: [...new Set([...matched, ...grouping])] });
  }
  return uses;
}

interface Exported {
  names: Set<string>;
  labels: Map<string, Set<string>>;
}

/** Metric names declared (# TYPE) and label names seen on samples, over several /metrics pages. */
export function exportedMetrics(pages: readonly string[]): Exported {
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const page of pages) {
    for (const [, name = '', type] of page.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      names.add(name);
      if (type === 'histogram' || type === 'summary')
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    }
    for (const sample of parsePrometheusText(page)) {
      const seen = labels.get(sample.name) ?? new Set<string>();
      for (const label of Object.keys(sample.labels)) seen.add(label);
      labels.set(sample.name, seen);
    }
  }
  return { names, labels };
}

export interface PromQlProblem {
  dashboard: string;
  panel: string;
  expr: string;
  problem: string;
}

/** Problems of every PromQL target against the /metrics pages; `unverified` lists labels of sample-less metrics. */
export function checkPromQl(
  pages: readonly string[],
  dashboards: DashboardFile[] = loadDashboards(),
): { problems: PromQlProblem[]; checked: number; unverified: string[] } {
  const exported = exportedMetrics(pages);
  const problems: PromQlProblem[] = [];
  const unverified: string[] = [];
  let checked = 0;
  for (const { dashboard } of dashboards)
    for (const panel of dashboard.panels)
      for (const target of panel.targets) {
        if (targetDataSource(panel, target)?.type !== 'prometheus' || target.expr === undefined) continue;
        checked++;
        const report = (problem: string): void => {
          problems.push({ dashboard: dashboard.uid, panel: panel.title, expr: target.expr ?? '', problem });
        };
        const uses = metricUses(target.expr);
        if (uses.length === 0) report('names no metric');
        for (const { metric, labels } of uses) {
          if (!exported.names.has(metric)) {
            report(`${metric} is not exported by any process`);
            continue;
          }
          const seen = exported.labels.get(metric);
          const wanted = labels.filter(
            (l) => !TARGET_LABELS.has(l) && !(l === 'le' && HISTOGRAM_SERIES.test(metric)),
          );
          if (seen === undefined) unverified.push(...wanted.map((l) => `${metric}{${l}}`));
          else for (const l of wanted.filter((x) => !seen.has(x))) report(`${metric} has no label ${l}`);
        }
      }
  return { problems, checked, unverified };
}
