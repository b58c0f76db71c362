// The shape of an alert rules file (groups → rules, as in a Prometheus rule file), one zod schema for the
// rule types and their check. Every duration is in whole minutes of event time (`3`, `3m` or `1h`),
// because rules are judged once per complete minute.
import { z } from 'zod';
import { SUMMARY_VARIABLES, compileSummary } from './summary-template.ts';

export const RULE_KINDS = ['error_ratio', 'latency_quantile', 'traffic_drop', 'slo_burn_rate'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export const NO_DATA_POLICIES = ['resolve', 'keep', 'fire'] as const;

const minutes = (what: string) =>
  z
    .union([z.number(), z.string()], { error: `${what}: expected whole minutes, e.g. 5, "5m" or "1h"` })
    .transform((value, ctx) => {
      const parsed = parseMinutes(value);
      if (parsed === undefined)
        ctx.addIssue({
          code: 'custom',
          message: `${what}: expected whole minutes >= 1, e.g. 5, "5m" or "1h"`,
        });
      return parsed ?? 1;
    });

function parseMinutes(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1 ? value : undefined;
  const match = /^\s*(\d+)\s*(m|h)?\s*$/.exec(value);
  if (match === null) return undefined;
  const n = Number(match[1]) * (match[2] === 'h' ? 60 : 1);
  return n >= 1 ? n : undefined;
}

const positive = (what: string) =>
  z.number({ error: `${what}: expected a number` }).positive({ error: `${what}: must be above 0` });
const fraction = (what: string) =>
  positive(what).max(1, { error: `${what}: must be a fraction of at most 1` });

const common = {
  alert: z.string({ error: 'alert: every rule needs a name (alert: HighErrorRatio)' }).min(1),
  for: minutes('for').default(1),
  keep_firing_for: minutes('keep_firing_for').default(1),
  min_requests: z
    .number({ error: 'min_requests: expected a whole number of requests' })
    .int()
    .min(0)
    .default(1),
  no_data: z
    .enum(NO_DATA_POLICIES, { error: `no_data: one of ${NO_DATA_POLICIES.join(', ')}` })
    .default('keep'),
  labels: z
    .record(z.string(), z.string({ error: 'labels: every label value is a string' }))
    .refine((labels) => (labels['severity'] ?? '') !== '', {
      error: 'labels.severity: every rule needs a severity label (e.g. page or ticket)',
    }),
  summary: z
    .string({
      error: `summary: expected a template string using ${SUMMARY_VARIABLES.map((v) => `{{ $${v} }}`).join(', ')}`,
    })
    .superRefine((text, ctx) => {
      const problem = compileSummary(text).problem;
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `summary: ${problem}` });
    }),
};

const errorRatio = z.strictObject({
  ...common,
  kind: z.literal('error_ratio'),
  window: minutes('window').default(1),
  threshold: fraction('threshold (5xx share of requests)'),
  recovery_threshold: fraction('recovery_threshold').optional(),
});

const latencyQuantile = z.strictObject({
  ...common,
  kind: z.literal('latency_quantile'),
  quantile: fraction('quantile').max(0.9999, { error: 'quantile: below 1, e.g. 0.99' }),
  window: minutes('window').default(1),
  threshold: positive("threshold (a multiple of the service's latency_slo_ms)"),
  recovery_threshold: positive('recovery_threshold').optional(),
});

const trafficDrop = z.strictObject({
  ...common,
  kind: z.literal('traffic_drop'),
  baseline: minutes('baseline').refine((m) => m >= 2, { error: 'baseline: at least 2 minutes' }),
  threshold: fraction('threshold (a fraction of the baseline, e.g. 0.5)'),
  recovery_threshold: fraction('recovery_threshold').optional(),
});

const sloBurnRate = z.strictObject({
  ...common,
  kind: z.literal('slo_burn_rate'),
  short_window: minutes('short_window'),
  long_window: minutes('long_window'),
  threshold: positive('threshold (burn rate factor, e.g. 14.4)'),
  recovery_threshold: positive('recovery_threshold').optional(),
});

export const ruleSchema = z
  .discriminatedUnion('kind', [errorRatio, latencyQuantile, trafficDrop, sloBurnRate], {
    error: `kind: one of ${RULE_KINDS.join(', ')}`,
  })
  .superRefine((rule, ctx) => {
    const recovery = rule.recovery_threshold;
    if (rule.kind === 'slo_burn_rate' && rule.long_window <= rule.short_window)
      ctx.addIssue({
        code: 'custom',
        path: ['long_window'],
        message: 'long_window: must be longer than short_window',
      });
    if (recovery === undefined) return;
    const below = rule.kind === 'traffic_drop';
    if (below ? recovery < rule.threshold : recovery > rule.threshold)
      ctx.addIssue({
        code: 'custom',
        path: ['recovery_threshold'],
        message: `recovery_threshold: must be ${below ? 'at least' : 'at most'} threshold (${rule.threshold}), so recovering means being clearly ${below ? 'above' : 'below'} it`,
      });
  });

export const rulesFileSchema = z.strictObject({
  groups: z
    .array(
      z.strictObject({
        name: z.string({ error: 'name: every group needs a name' }).min(1),
        rules: z.array(ruleSchema, { error: 'rules: expected a list of rules' }),
      }),
      { error: 'groups: expected a list of groups, each with a name and rules' },
    )
    .min(1, { error: 'groups: at least one group' }),
});

export type RuleInput = z.output<typeof ruleSchema>;
/** A validated rule, its recovery threshold filled in and its summary compiled. */
export type AlertRule = RuleInput & { recovery: number; group: string };

/** How many minutes of history a rule reads back from the minute it judges (that minute included). */
export function lookbackMinutes(rule: AlertRule): number {
  switch (rule.kind) {
    case 'error_ratio':
    case 'latency_quantile':
      return rule.window;
    case 'traffic_drop':
      return rule.baseline + 1;
    case 'slo_burn_rate':
      return rule.long_window;
  }
}
