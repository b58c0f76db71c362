// alert: stats.1m → alerts. Rules from a YAML file (rules-file.ts) judge each service's complete minutes
// in event time (judge-service.ts); each (rule, service) steps an episode state machine (episodes.ts)
// whose edges are the AlertEvents: exactly one FIRING and one RESOLVED per episode, because the state
// lives in a changelogged store written in the same transaction as the alerts and the input offsets.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { avro, defineProcessor, keyedStore } from '../../runtime/index.ts';
import type { AlertEvent, TableView } from '../../runtime/index.ts';
import type { Service } from '../../runtime/contracts/index.ts';
import { applyRow, newServiceState, retentionFor } from './judge-service.ts';
import type { RuleEdge } from './judge-service.ts';
import type { Objectives } from './rule-kinds.ts';
import { loadRulesFile } from './rules-file.ts';
import { MINUTE_MS } from './service-minutes.ts';
import type { ServiceMinutes } from './service-minutes.ts';
import { judgeSilence, lastCompleteMinute, silentThrough } from './silent-minutes.ts';
import { renderSummary } from './summary-template.ts';
import { fromStored, toStored } from './stored-state.ts';

export const DEFAULT_RULES_FILE = fileURLToPath(new URL('./default-rules.yaml', import.meta.url));

export const alert = defineProcessor({
  name: 'alert',
  description:
    "judges each service's complete minutes against the rules; one FIRING and one RESOLVED per episode",
  input: { topic: 'stats.1m', value: avro('StatsMinute') },
  outputs: { alerts: { topic: 'alerts', value: avro('AlertEvent') } },
  config: {
    rulesFile: z.string().min(1).default(DEFAULT_RULES_FILE).describe('path of the YAML rules file'),
    allowedLatenessMs: z
      .number()
      .int()
      .min(0)
      .default(60_000)
      .describe(
        "the aggregate's allowedLatenessMs (same key): a service without rows for a minute is judged silent a minute after the aggregate would have written them, in ms of event time",
      ),
  },
  // Rows that change no judged minute's outcome: corrections (and rows of a minute judged without them).
  outcomes: ['folded_after_judged'],
  stores: { services: keyedStore('StoredServiceAlert') },
  tables: {
    services: {
      topic: 'ref.services',
      value: avro('Service'),
      validFrom: { from: 'field', field: 'updated_at' },
    },
  },
  open(config) {
    const rules = loadRulesFile(config.rulesFile);
    return { rules, retention: retentionFor(rules) };
  },
  // The aggregate writes a stats row for minute M once its progress passes M's end + its allowed lateness;
  // the rows carry that progress (tributary-wm) and, without the header, a row's window_end stands for it.
  // One minute more of lateness leaves a whole minute for M's rows to arrive before a service without
  // any is judged silent by the timer below.
  eventTime: {
    input: (record) => record.value.window_end,
    allowedLatenessMs: (config) => config.allowedLatenessMs + MINUTE_MS,
  },
  handle(record, ctx) {
    const row = record.value;
    const store = ctx.store('services');
    const stored = store.get(row.service);
    const state =
      stored === undefined ? newServiceState(row, lastCompleteMinute(ctx.watermarkMs)) : fromStored(stored);
    const { rules, retention } = ctx.resources;
    const judgedBefore = state.minutes.judgedThrough;
    const objectives = objectivesOf(ctx.table('services'), row.service, state.minutes);
    const edges = applyRow(state, row, rules, retention, objectives);
    store.set(row.service, toStored(state));
    if (judgedBefore !== null && row.window_start <= judgedBefore) ctx.count('folded_after_judged');
    for (const edge of edges)
      ctx.emit('alerts', row.service, toAlertEvent(row.service, edge), { timestamp: record.timestamp });
  },
  // Event time moved: every service of the partition whose judged minutes stop before the last complete
  // minute gets its silent minutes judged (silent-minutes.ts), so a service that stops sending is judged.
  onWatermark(_partition, watermarkMs, ctx) {
    const through = lastCompleteMinute(watermarkMs);
    if (through === undefined) return;
    const store = ctx.store('services');
    const { rules, retention } = ctx.resources;
    for (const [service, stored] of [...store.entries()]) {
      if (silentThrough(stored.minutes, through) === undefined) continue;
      const state = fromStored(stored);
      const objectives = objectivesOf(ctx.table('services'), service, state.minutes);
      const { edges, forget } = judgeSilence(state, service, through, rules, retention, objectives);
      if (forget) store.delete(service);
      else store.set(service, toStored(state));
      for (const edge of edges)
        ctx.emit('alerts', service, toAlertEvent(service, edge), { timestamp: edge.edge.at });
    }
  },
});

/** The objectives valid at a minute: ref.services at that time, else what the minute's rows carried. */
function objectivesOf(services: TableView<Service>, service: string, minutes: ServiceMinutes) {
  return (minute: number): Objectives => {
    const ref = services.get(service, minute);
    const rows = minutes.minutes[String(minute)];
    return {
      latencySloMs: ref?.latency_slo_ms ?? rows?.latencySloMs ?? null,
      availabilitySlo: ref?.availability_slo ?? rows?.availabilitySlo ?? null,
    };
  };
}

function toAlertEvent(service: string, { rule, edge }: RuleEdge): AlertEvent {
  const severity = rule.labels['severity'] ?? '';
  const values = {
    service,
    value: edge.value,
    threshold: edge.threshold,
    rule: rule.alert,
    kind: rule.kind,
    state: edge.state,
    severity,
  };
  return {
    alert_id: edge.alertId,
    state: edge.state,
    rule: rule.alert,
    kind: rule.kind,
    severity,
    service,
    episode_start: edge.episodeStart,
    at: edge.at,
    value: edge.value,
    threshold: edge.threshold,
    summary: renderSummary(rule.summary, values),
    labels: { ...rule.labels, alertname: rule.alert, service, severity },
  };
}
