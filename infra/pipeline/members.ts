// The pipeline's members, in data-flow order: what `tributary start` runs. A processor or sink joins the
// supervised pipeline with one line here (its name is what `tributary run <name>` takes).

export interface PipelineMember {
  /** `tributary run <name>`: a processor or sink; also its consumer group behind the topic prefix. */
  name: string;
  /** Copies started when no `--copies name=N` says otherwise. */
  defaultCopies: number;
  /** Settings this member needs in the whole pipeline (over the shared ones). */
  env?: Record<string, string>;
}

export const PIPELINE_MEMBERS: readonly PipelineMember[] = [
  { name: 'ingest', defaultCopies: 1 },
  // Needs ref.services and ref.customers (`tributary ref load`); without them it exits and is restarted.
  { name: 'enrich', defaultCopies: 1 },
  // requests.enriched → stats.1m: one-minute event-time windows (closed by the watermark, see README).
  { name: 'aggregate', defaultCopies: 1 },
  // Judges stats.1m against processors/alert/default-rules.yaml (TRIBUTARY_RULES_FILE for another file).
  { name: 'alert', defaultCopies: 1 },
  // requests gets enrich's rows; ingest's own (requests.valid) would put every event in it twice.
  { name: 'clickhouse-sink', defaultCopies: 1, env: { TRIBUTARY_SINK_SKIP_TOPICS: 'requests.valid' } },
  // Delivers alerts to Alertmanager/webhooks; needs TRIBUTARY_NOTIFIER_ALERTMANAGER_URLS and/or _WEBHOOK_URLS
  // (without a receiver it exits 2), so it starts only when asked: `--copies notifier=1`.
  { name: 'notifier', defaultCopies: 0 },
];

/**
 * Copies per member from `ingest=2,clickhouse-sink=1` (or several such strings), over the defaults.
 * Throws an Error naming the bad part; unknown names are refused.
 */
export function parseCopies(
  specs: readonly string[],
  members: readonly PipelineMember[] = PIPELINE_MEMBERS,
): Map<string, number> {
  const copies = new Map(members.map((m) => [m.name, m.defaultCopies]));
  for (const part of specs.flatMap((s) => s.split(',')).filter((p) => p.trim() !== '')) {
    const match = /^\s*([A-Za-z0-9._-]+)\s*=\s*(\d+)\s*$/.exec(part);
    if (match === null) throw new Error(`--copies expects name=N[,name=N…], got "${part}"`);
    const [, name = '', count = ''] = match;
    if (!copies.has(name))
      throw new Error(`--copies: no pipeline member "${name}" (members: ${[...copies.keys()].join(', ')})`);
    const n = Number(count);
    if (n > 32) throw new Error(`--copies ${name}=${n}: at most 32 copies`);
    copies.set(name, n);
  }
  return copies;
}
