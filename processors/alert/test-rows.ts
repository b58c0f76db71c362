// Test support: a service's minute as the aggregate stage writes it to stats.1m, split over endpoint
// rows (service_rows of them), with latency buckets by the StatsMinute mapping.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bucketIndex } from '../../runtime/index.ts';
import type { StatsMinute } from '../../runtime/index.ts';

export const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
export const MINUTE = 60_000;
const ACCURACY = 0.01;

export interface MinuteSpec {
  requests: number;
  errors5xx?: number;
  /** Every request's latency (ms); default 20. */
  latencyMs?: number;
  /** Rows to split the minute over (endpoints); default 2. */
  rows?: number;
  revision?: number;
  service?: string;
  latencySloMs?: number | null;
  availabilitySlo?: number | null;
}

/** The rows of one service minute (minute = index from T0). */
export function serviceMinute(minute: number, spec: MinuteSpec): StatsMinute[] {
  const rows = spec.rows ?? 2;
  const out: StatsMinute[] = [];
  for (let r = 0; r < rows; r++) {
    const requests = share(spec.requests, rows, r);
    const errors = share(spec.errors5xx ?? 0, rows, r);
    out.push(statsRow(minute, r, requests, errors, spec, rows));
  }
  return out;
}

function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

function statsRow(
  minute: number,
  r: number,
  requests: number,
  errors: number,
  spec: MinuteSpec,
  rows: number,
): StatsMinute {
  const latency = spec.latencyMs ?? 20;
  const start = T0 + minute * MINUTE;
  return {
    service: spec.service ?? 'checkout',
    endpoint: `/api/e${r}`,
    region: 'eu-west-1',
    window_start: start,
    window_end: start + MINUTE,
    revision: spec.revision ?? 0,
    requests,
    status_1xx: 0,
    status_2xx: requests - errors,
    status_3xx: 0,
    status_4xx: 0,
    status_5xx: errors,
    latency_count: requests,
    latency_sum_ms: requests * latency,
    latency_min_ms: latency,
    latency_max_ms: latency,
    bytes_out: requests * 100,
    sketch_relative_accuracy: ACCURACY,
    sketch_zero_count: 0,
    sketch_bucket_index: requests > 0 ? [bucketIndex(latency, ACCURACY) ?? 0] : [],
    sketch_bucket_count: requests > 0 ? [requests] : [],
    service_rows: rows,
    team: 'payments',
    tier: 1,
    latency_slo_ms: spec.latencySloMs === undefined ? 250 : spec.latencySloMs,
    availability_slo: spec.availabilitySlo === undefined ? 0.999 : spec.availabilitySlo,
  };
}

/** A rules file in a fresh temp dir; returns its path. */
export function writeRules(yaml: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'alert-rules-')), 'rules.yaml');
  writeFileSync(path, yaml);
  return path;
}

/** One rule in a group, from YAML lines of its keys; `labels: { severity: page }` unless it has labels. */
export function ruleYaml(keys: string): string {
  const lines = keys
    .trim()
    .split('\n')
    .map((line) => line.trim());
  if (!lines.some((line) => line.startsWith('labels:'))) lines.push('labels: { severity: page }');
  const [first = '', ...rest] = lines;
  const body = [`      - ${first}`, ...rest.map((line) => `        ${line}`)].join('\n');
  return `groups:\n  - name: test\n    rules:\n${body}\n        summary: '{{ $service }} {{ $value }}'\n`;
}
