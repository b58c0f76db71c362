// Deliveries packed for the trip from the generator (a worker thread) to the producing thread: every
// value's bytes back to back, and per record the numbers the truth needs when it is acknowledged.
// Typed arrays only, so a batch moves between threads without copying and costs the collector nothing.
import { BAD_CLASSES } from './bad-events.ts';
import type { BadClass } from './bad-events.ts';
import type { Delivery, EventGenerator, Timing } from './generator.ts';

/** Numbers per record in `RecordBatch.facts`; the field offsets follow. */
export const FACT_STRIDE = 11;
export const FACT = {
  /** KIND_ORIGINAL, KIND_DUPLICATE or KIND_BAD. */
  kind: 0,
  /** The event's number in the run: its key is `<runTag>-<index>`. */
  index: 1,
  /** Valid: the timing code (TIMINGS); bad: the class (BAD_CLASSES). */
  code: 2,
  /** 1 when a second delivery of the event is scheduled. */
  duplicated: 3,
  endpoint: 4,
  region: 5,
  status: 6,
  latencyMs: 7,
  bytesOut: 8,
  ts: 9,
  /** Index into `Fleet.customers`: the enriched truth groups by the customer's plan. */
  customer: 10,
} as const;
export const KIND_ORIGINAL = 0;
export const KIND_DUPLICATE = 1;
export const KIND_BAD = 2;
export const TIMINGS: readonly Timing[] = ['on_time', 'out_of_order', 'late'];

export interface RecordBatch {
  /** Batches are numbered from 0 in generation order. */
  seq: number;
  size: number;
  /** Every record's value, back to back. */
  values: Uint8Array;
  /** Where record i's value ends in `values` (it starts where record i-1's ends). */
  ends: Uint32Array;
  facts: Float64Array;
  /** True when the generator has nothing after this batch. */
  last: boolean;
}

/** Writes one delivery's facts at `at` (a multiple of FACT_STRIDE). */
export function writeFacts(delivery: Delivery, facts: Float64Array, at: number): void {
  facts[at + FACT.index] = delivery.index;
  if (delivery.kind === 'bad') {
    facts[at + FACT.kind] = KIND_BAD;
    facts[at + FACT.code] = BAD_CLASSES.indexOf(delivery.badClass);
    return;
  }
  const e = delivery.event;
  facts[at + FACT.kind] = delivery.copy === 0 ? KIND_ORIGINAL : KIND_DUPLICATE;
  facts[at + FACT.code] = TIMINGS.indexOf(e.timing);
  facts[at + FACT.duplicated] = e.duplicated ? 1 : 0;
  facts[at + FACT.endpoint] = e.endpoint;
  facts[at + FACT.region] = e.region;
  facts[at + FACT.status] = e.status;
  facts[at + FACT.latencyMs] = e.latencyMs;
  facts[at + FACT.bytesOut] = e.bytesOut;
  facts[at + FACT.ts] = e.ts;
  facts[at + FACT.customer] = e.customer;
}

export function badClassOf(facts: Float64Array, at: number): BadClass {
  return BAD_CLASSES[facts[at + FACT.code] ?? 0] ?? 'malformed_json';
}

/** Takes up to `maxRecords` deliveries from the generator into one batch. */
export function packBatch(generator: EventGenerator, seq: number, maxRecords: number): RecordBatch {
  const deliveries: Delivery[] = [];
  let bytes = 0;
  let last = false;
  while (deliveries.length < maxRecords) {
    const delivery = generator.next();
    if (delivery === undefined) {
      last = true;
      break;
    }
    deliveries.push(delivery);
    bytes += delivery.value.length;
  }
  const values = new Uint8Array(bytes);
  const ends = new Uint32Array(deliveries.length);
  const facts = new Float64Array(deliveries.length * FACT_STRIDE);
  let offset = 0;
  deliveries.forEach((delivery, i) => {
    values.set(delivery.value, offset);
    offset += delivery.value.length;
    ends[i] = offset;
    writeFacts(delivery, facts, i * FACT_STRIDE);
  });
  return { seq, size: deliveries.length, values, ends, facts, last };
}
