// Reads what a pipeline process serves on /metrics (Prometheus text format) into the few figures the
// supervisor shows: records consumed, dead letters, lag, assigned partitions. Pure: text in, numbers out.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

function unescapeLabel(raw: string): string {
  return raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (match === null) return text.slice(LABEL.lastIndex).trim() === '' ? labels : undefined;
    labels[match[1] ?? ''] = unescapeLabel(match[2] ?? '');
  }
  return labels;
}

function parseValue(raw: string): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  return Number(raw); // NaN stays NaN
}

/** Every sample of a Prometheus text exposition; comments, blank and malformed lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    const labels = parseLabels(match[2] ?? '');
    if (labels === undefined) continue;
    samples.push({ name: match[1] ?? '', labels, value: parseValue(match[3] ?? '') });
  }
  return samples;
}

/** The figures of one process, as counters since it started (they reset when it restarts). */
export interface CopyFigures {
  /** Input records consumed (processors) or source records handled (sinks). */
  consumed: number;
  /** Records sent to a dead-letter topic. */
  deadLetters: number;
  /** Sum of the per-partition lag gauges; undefined when the process exports none. */
  lag: number | undefined;
  assignedPartitions: number | undefined;
}

function sum(samples: readonly Sample[], name: string, where: (labels: Record<string, string>) => boolean) {
  let total = 0;
  let found = false;
  for (const s of samples) {
    if (s.name !== name || !where(s.labels) || !Number.isFinite(s.value)) continue;
    total += s.value;
    found = true;
  }
  return found ? total : undefined;
}

const any = (): boolean => true;

/** Processors count `tributary_records_total{outcome}`; sinks `tributary_sink_rows_total{outcome}`. */
export function copyFigures(samples: readonly Sample[]): CopyFigures {
  const outcome =
    (...wanted: string[]) =>
    (labels: Record<string, string>): boolean =>
      wanted.includes(labels.outcome ?? '');
  const consumed =
    (sum(samples, 'tributary_records_total', outcome('consumed')) ?? 0) +
    (sum(samples, 'tributary_sink_rows_total', any) ?? 0);
  const deadLetters =
    (sum(samples, 'tributary_records_total', outcome('dead_letter')) ?? 0) +
    (sum(samples, 'tributary_sink_rows_total', outcome('dead_letter')) ?? 0);
  return {
    consumed,
    deadLetters,
    lag: sum(samples, 'tributary_consumer_lag_records', any),
    assignedPartitions: sum(samples, 'tributary_assigned_partitions', any),
  };
}

/** How much a counter grew between two reads of the same process; a drop means it restarted from 0. */
export function counterDelta(previous: number | undefined, current: number): number {
  if (previous === undefined || current < previous) return current;
  return current - previous;
}
