// The alerts section of `tributary reconcile`: episodes in ClickHouse's `alerts` against the run's
// injected incidents, with each rule's `for` and `keep_firing_for` from the alert processor's rules file
// (TRIBUTARY_RULES_FILE, else its default rules), and optionally the keys a receiver recorded.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { textTable } from '../../runtime/observability/terminal.ts';
import { loadConfig } from '../../runtime/index.ts';
import { ALERTS_TABLE, alertEdgesIn, incidentsOf, reconcileAlerts, runPrefix } from '../../loadgen/index.ts';
import type { AlertReconciliation, RuleTiming, SelectRows, Truth } from '../../loadgen/index.ts';

// Imported by path at run time: the rules file, read by the alert processor's own reader, is the one
// source of every rule's timing (and this keeps the CLI independent of that folder at build time).
const ALERT_MODULE = '../../processors/alert/alert.ts';
const RULES_MODULE = '../../processors/alert/rules-file.ts';
const alertModule = z.object({ DEFAULT_RULES_FILE: z.string() });
const rulesModule = z.object({
  loadRulesFile: z.custom<(path: string) => unknown>((f) => typeof f === 'function'),
});
const ruleTimings = z.array(
  z.object({ alert: z.string(), for: z.number(), keep_firing_for: z.number() }).loose(),
);

async function loadRuleTimings(): Promise<Map<string, RuleTiming> | undefined> {
  let modules: [unknown, unknown];
  try {
    modules = [await import(ALERT_MODULE), await import(RULES_MODULE)];
  } catch {
    return undefined;
  }
  const { DEFAULT_RULES_FILE } = alertModule.parse(modules[0]);
  const { loadRulesFile } = rulesModule.parse(modules[1]);
  const { rulesFile } = loadConfig('reconcile', z.object({ rulesFile: z.string().min(1).optional() }));
  const rules = ruleTimings.parse(loadRulesFile(rulesFile ?? DEFAULT_RULES_FILE));
  return new Map(rules.map((r) => [r.alert, { forMinutes: r.for, keepFiringForMinutes: r.keep_firing_for }]));
}

/** Keys a receiver recorded, one `<alert_id>:<state>` per line (duplicates allowed). */
export function readReceivedKeys(path: string): Set<string> {
  const lines = readFileSync(path, 'utf8').split('\n');
  return new Set(lines.map((line) => line.trim()).filter((line) => line !== ''));
}

export async function reconcileAlertsIfPresent(
  truth: Truth,
  select: SelectRows,
  receivedKeys?: ReadonlySet<string>,
): Promise<{ result: AlertReconciliation } | { skipped: string }> {
  const [[exists = 0] = []] = await select(`EXISTS TABLE ${ALERTS_TABLE}`);
  if (Number(exists) !== 1) return { skipped: `no ${ALERTS_TABLE} table yet: alerts not reconciled` };
  const edges = await alertEdgesIn(select, runPrefix(truth));
  if (edges.length === 0 && receivedKeys === undefined)
    return { skipped: `${ALERTS_TABLE} holds no alerts of this run (was the alert processor running?)` };
  const timing = await loadRuleTimings();
  if (timing === undefined) return { skipped: 'no alert rules (processors/alert) to time the episodes' };
  return {
    result: reconcileAlerts(incidentsOf(truth), edges, timing, receivedKeys, truth.event_time.to_ms),
  };
}

const minutes = (ms: number | undefined): string =>
  ms === undefined ? '-' : `${(ms / 60_000).toFixed(1)} min`;

export function alertReconciliationTables(result: AlertReconciliation): string {
  const checks = textTable({ head: [`${ALERTS_TABLE} check`, 'expected', 'actual', ''] });
  for (const c of result.checks)
    checks.push([c.check, c.expected.toLocaleString(), c.actual.toLocaleString(), c.ok ? 'ok' : 'MISMATCH']);
  const incidents = textTable({
    head: ['incident', 'service', 'episode', 'fired after', 'resolved after', ''],
  });
  for (const v of result.incidents)
    incidents.push([
      v.incident.kind,
      v.incident.service,
      v.episodes.map((e) => e.alertId).join(', ') || '-',
      minutes(v.detectedMs),
      minutes(v.resolvedMs),
      v.problem ?? 'ok',
    ]);
  const unexplained = result.falsePositives.map(
    (e) => `false positive: ${e.rule} on ${e.service} (${e.alertId})`,
  );
  const afterEnd =
    result.afterRunEnd.length === 0
      ? []
      : [
          `${result.afterRunEnd.length} episode(s) began once the load stopped (every service fell silent): ` +
            result.afterRunEnd.map((e) => `${e.rule} on ${e.service}`).join(', '),
        ];
  return [checks.toString(), incidents.toString(), ...unexplained, ...afterEnd].join('\n');
}
