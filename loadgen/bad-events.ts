// The classes of bad raw events the generator injects, each with the one defect it carries and the
// dead-letter reason ingest must give it (ingest's closed set of reason codes).
import type { EventEncoder, RequestFacts } from './event-encoder.ts';
import { joinFields, setField } from './event-encoder.ts';
import type { Random } from './prng.ts';

export const BAD_CLASSES = [
  'malformed_json',
  'not_an_object',
  'missing_field',
  'wrong_type',
  'out_of_range',
  'timestamp_out_of_bounds',
  'invalid_encoding',
  'oversized',
  'duplicate_key',
] as const;

export type BadClass = (typeof BAD_CLASSES)[number];

/** The dead-letter reason ingest must write for each class. One class, one reason. */
export const EXPECTED_REASON: Readonly<Record<BadClass, string>> = {
  malformed_json: 'malformed_json',
  not_an_object: 'not_an_object',
  missing_field: 'missing_field',
  wrong_type: 'wrong_type',
  out_of_range: 'out_of_range',
  timestamp_out_of_bounds: 'timestamp_out_of_bounds',
  invalid_encoding: 'invalid_encoding',
  oversized: 'oversized',
  duplicate_key: 'duplicate_key',
};

/** Bigger than ingest's 64 KiB record limit. */
export const OVERSIZED_FIELD_BYTES = 100 * 1024;
const OVERSIZED_FILLER = 'x'.repeat(OVERSIZED_FIELD_BYTES);
const THIRTY_DAYS_MS = 30 * 24 * 3600 * 1000;
const CUSTOMER_ID_OPENING = '"customer_id":"';
const INVALID_UTF8 = Buffer.from([0xff, 0xfe]);

/** An otherwise valid event with exactly the defect of its class. */
export function encodeBadEvent(
  badClass: BadClass,
  facts: RequestFacts,
  encoder: EventEncoder,
  random: Random,
): Buffer {
  const fields = encoder.fields(facts, false);
  switch (badClass) {
    case 'malformed_json': {
      // Any proper prefix of a JSON object is invalid: cut somewhere before the closing brace.
      const text = joinFields(fields);
      return Buffer.from(text.slice(0, random.int(1, text.length - 1)));
    }
    case 'not_an_object':
      return Buffer.from(`[${joinFields(fields)}]`);
    case 'missing_field':
      return Buffer.from(joinFields(fields.filter(([key]) => key !== 'service')));
    case 'wrong_type':
      setField(fields, 'status', `"${facts.status}"`);
      return Buffer.from(joinFields(fields));
    case 'out_of_range':
      if (random.chance(0.5)) setField(fields, 'status', String(random.pick([700, 999, 42])));
      else setField(fields, 'latency_ms', String(-(facts.latencyMs + 1)));
      return Buffer.from(joinFields(fields));
    case 'timestamp_out_of_bounds': {
      const ts = random.chance(0.5) ? Math.floor(facts.ts / 1000) : facts.ts - THIRTY_DAYS_MS;
      setField(fields, 'ts', String(ts));
      return Buffer.from(joinFields(fields));
    }
    case 'invalid_encoding': {
      // 0xff 0xfe can never appear in UTF-8: put them inside the customer_id string.
      const text = joinFields(fields);
      const at = text.indexOf(CUSTOMER_ID_OPENING) + CUSTOMER_ID_OPENING.length + 4;
      return Buffer.concat([Buffer.from(text.slice(0, at)), INVALID_UTF8, Buffer.from(text.slice(at))]);
    }
    case 'oversized':
      fields.push(['stack_trace', `"${OVERSIZED_FILLER}"`]);
      return Buffer.from(joinFields(fields));
    case 'duplicate_key': {
      const other = facts.status >= 500 ? 200 : 500;
      fields.push(['status', String(other)]);
      return Buffer.from(joinFields(fields));
    }
  }
}
