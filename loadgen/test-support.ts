// Helpers shared by the load generator's tests: a small run generated in memory, and a reading of raw
// events written here from the event's definition in PIPELINE.md, not from the generator or ingest.
import type { RequestEvent } from '../runtime/contracts/index.ts';
import { buildFleet } from './fleet.ts';
import type { Fleet } from './fleet.ts';
import { EventGenerator } from './generator.ts';
import type { Delivery } from './generator.ts';
import { generatorOptionsSchema } from './options.ts';
import type { GeneratorInput } from './options.ts';

export const FIXED_START_MS = Date.UTC(2025, 5, 12, 10, 0, 0);

export function generate(input: Partial<GeneratorInput> & { count: number }): {
  fleet: Fleet;
  generator: EventGenerator;
  deliveries: Delivery[];
} {
  const options = generatorOptionsSchema.parse({ startMs: FIXED_START_MS, rate: 10_000, ...input });
  const fleet = buildFleet({
    seed: options.seed,
    services: options.services,
    customers: options.customers,
    regions: options.regions,
  });
  const generator = new EventGenerator(fleet, options);
  const deliveries: Delivery[] = [];
  for (let d = generator.next(); d !== undefined; d = generator.next()) deliveries.push(d);
  return { fleet, generator, deliveries };
}

/** A raw event read the simple way: the RequestEvent ingest would produce, before ingest stamps it. */
export type ReadEvent = Omit<RequestEvent, 'ingested_at'>;

/** What a raw record is, judged the simple way: a normalised event, or the reason it cannot be one. */
export function readRaw(value: Buffer, nowMs = FIXED_START_MS): { event: ReadEvent } | { reason: string } {
  if (value.length > 64 * 1024) return { reason: 'oversized' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(value);
  } catch {
    return { reason: 'invalid_encoding' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { reason: 'malformed_json' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { reason: 'not_an_object' };
  if ((text.match(/"status":/g) ?? []).length > 1) return { reason: 'duplicate_key' };
  const o = parsed as Record<string, unknown>;
  const names = [
    'event_id',
    'ts',
    'service',
    'endpoint',
    'method',
    'status',
    'latency_ms',
    'bytes_out',
    'customer_id',
    'region',
  ];
  if (names.some((name) => !(name in o))) return { reason: 'missing_field' };
  if (
    typeof o['status'] !== 'number' ||
    typeof o['latency_ms'] !== 'number' ||
    typeof o['bytes_out'] !== 'number'
  ) {
    return { reason: 'wrong_type' };
  }
  const status = o['status'];
  if (status < 100 || status > 599 || o['latency_ms'] < 0 || o['bytes_out'] < 0)
    return { reason: 'out_of_range' };
  const ts = typeof o['ts'] === 'string' ? Date.parse(o['ts']) : Number(o['ts']);
  if (Math.abs(ts - nowMs) > 7 * 24 * 3600 * 1000) return { reason: 'timestamp_out_of_bounds' };
  const norm = (v: unknown): string => String(v).trim().toLowerCase();
  return {
    event: {
      event_id: String(o['event_id']),
      ts,
      service: norm(o['service']),
      endpoint: norm(o['endpoint']),
      method: String(o['method']).trim().toUpperCase(),
      status,
      latency_ms: o['latency_ms'],
      bytes_out: o['bytes_out'],
      customer_id: norm(o['customer_id']),
      region: norm(o['region']),
    },
  };
}
