// ingest: raw JSON request events → validated, normalised Avro RequestEvents; rejects → requests.dlq
// with a reason; repeated event_ids within the horizon dropped and counted (upstreams retry).
import { z } from 'zod';
import { CHANGELOG_RETENTION_MS, avro, bytes, defineProcessor, recentIds } from '../../runtime/index.ts';
import { DEFAULT_PARSE_LIMITS, parseRequestEvent } from './parse-event.ts';

const positiveMs = z.number().int().min(1);

export const ingest = defineProcessor({
  name: 'ingest',
  description:
    'validates and normalises raw request events; dead-letters what it cannot accept; drops duplicates',
  input: { topic: 'requests.raw', value: bytes() },
  outputs: { valid: { topic: 'requests.valid', value: avro('RequestEvent') } },
  deadLetter: { topic: 'requests.dlq' },
  outcomes: ['duplicate'],
  config: {
    maxEventBytes: z
      .number()
      .int()
      .min(256)
      .default(DEFAULT_PARSE_LIMITS.maxEventBytes)
      .describe('largest raw event accepted, in bytes'),
    maxIdentifierLength: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_PARSE_LIMITS.maxIdentifierLength)
      .describe('longest identifier, in characters'),
    maxPastMs: positiveMs
      .default(DEFAULT_PARSE_LIMITS.maxPastMs)
      .describe('how far before arrival an event time may be, in ms'),
    maxFutureMs: positiveMs
      .default(DEFAULT_PARSE_LIMITS.maxFutureMs)
      .describe('how far after arrival an event time may be, in ms'),
    maxLatencyMs: positiveMs
      .default(DEFAULT_PARSE_LIMITS.maxLatencyMs)
      .describe('largest plausible latency_ms'),
    dedupHorizonMs: positiveMs
      .max(CHANGELOG_RETENTION_MS / 2)
      .default(10 * 60_000)
      .describe(
        'how long an event_id is remembered to drop repeats, in ms of arrival time (up to 1/16 longer)',
      ),
    dedupMaxIdsPerPartition: z
      .number()
      .int()
      .min(1000)
      .default(2_000_000)
      .describe(
        'most event_ids remembered per partition, ~10-16 bytes each; past it the kept horizon shrinks (logged, /readyz, tributary_state_horizon_seconds)',
      ),
  },
  // The store expires ids by arrival time and caps them itself; its changelog holds about the live ids.
  // Raw bytes have no event time until the handler parses them: the ts of what it emits stands in
  // (a dead letter or a dropped duplicate moves nothing), and becomes requests.valid's progress header.
  eventTime: { output: { valid: (event) => event.ts } },
  stores: {
    recentEventIds: recentIds({
      horizonMs: (c) => Number(c['dedupHorizonMs']),
      maxIdsPerPartition: (c) => Number(c['dedupMaxIdsPerPartition']),
    }),
  },
  handle(record, ctx) {
    // Bounds and ingested_at are relative to the record's arrival (its Kafka timestamp), not the wall
    // clock, so reprocessing after a crash gives exactly the same output.
    const arrivedAt = record.timestamp;
    const event = parseRequestEvent(record.value, ctx.config, arrivedAt);
    const seen = ctx.store('recentEventIds');
    if (seen.has(event.event_id, arrivedAt)) {
      ctx.count('duplicate');
      return;
    }
    seen.add(event.event_id, arrivedAt);
    ctx.emit('valid', event.event_id, event);
  },
});
