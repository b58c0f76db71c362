import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../runtime/errors.ts';
import { DEFAULT_PARSE_LIMITS, parseRequestEvent } from './parse-event.ts';
import type { ParseLimits } from './parse-event.ts';
import { DEAD_LETTER_REASONS } from './reasons.ts';
import { BASE_FIELDS, NOW, rawEvent } from './test-events.ts';

const DAY = 86_400_000;
const BASE = BASE_FIELDS;
const REQUIRED = Object.keys(BASE);
const event = (overrides: Record<string, string | undefined> = {}): Buffer => rawEvent(overrides);

const parse = (raw: Buffer, limits: ParseLimits = DEFAULT_PARSE_LIMITS) =>
  parseRequestEvent(raw, limits, NOW);

function refusal(raw: Buffer, limits: ParseLimits = DEFAULT_PARSE_LIMITS): ValidationError {
  try {
    parse(raw, limits);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error(`expected a ValidationError for ${raw.toString('utf8').slice(0, 200)}`);
}

function expectRefusal(raw: Buffer, reason: string, mentions: string, limits?: ParseLimits): string {
  const { reason: actual, detail } = refusal(raw, limits);
  expect({ reason: actual, mentionsField: detail.includes(mentions) }, detail).toEqual({
    reason,
    mentionsField: true,
  });
  return detail;
}

const WIDE_TS: ParseLimits = { ...DEFAULT_PARSE_LIMITS, maxPastMs: 1e16, maxFutureMs: 1e16 };
const tsOf = (iso: string) => parse(event({ ts: JSON.stringify(iso) }), WIDE_TS).ts;

describe('parseRequestEvent: valid events', () => {
  it('returns exactly the fields of schemas/request-event.avsc, with ingested_at = now', () => {
    const schema = JSON.parse(
      readFileSync(new URL('../../schemas/request-event.avsc', import.meta.url), 'utf8'),
    ) as {
      fields: { name: string }[];
    };
    const parsed = parse(event());
    expect(Object.keys(parsed)).toEqual(schema.fields.map((field) => field.name));
    expect(parsed).toEqual({
      event_id: 'Evt-0001',
      ts: NOW - 1000,
      service: 'checkout',
      endpoint: '/api/orders/{id}',
      method: 'GET',
      status: 200,
      latency_ms: 12.5,
      bytes_out: 1834,
      customer_id: 'cust-42',
      region: 'eu-west-1',
      ingested_at: NOW,
    });
  });

  it('trims identifiers, lower-cases all but event_id, upper-cases the method', () => {
    const parsed = parse(
      event({
        event_id: '"  AbC-9 "',
        service: '" Checkout\\t"',
        endpoint: '"/API/Orders/{ID} "',
        method: '" patch "',
        customer_id: '"CUST-42"',
        region: '"EU-West-1"',
      }),
    );
    expect(parsed).toMatchObject({
      event_id: 'AbC-9',
      service: 'checkout',
      endpoint: '/api/orders/{id}',
      method: 'PATCH',
      customer_id: 'cust-42',
      region: 'eu-west-1',
    });
  });

  it('ignores unknown extra fields, whatever they hold', () => {
    const parsed = parse(event({ trace: '{"a":[1,{"b":null}]}', extra: '"\\u0000"', big: '1e999' }));
    expect(parsed).not.toHaveProperty('trace');
    expect(parsed.service).toBe('checkout');
  });

  it('accepts integral latencies, zero values and limits exactly at their bounds', () => {
    const parsed = parse(
      event({ latency_ms: '3600000', bytes_out: String(Number.MAX_SAFE_INTEGER), status: '599' }),
    );
    expect(parsed).toMatchObject({ latency_ms: 3_600_000, bytes_out: Number.MAX_SAFE_INTEGER, status: 599 });
    expect(parse(event({ latency_ms: '0', bytes_out: '0', status: '100' }))).toMatchObject({
      latency_ms: 0,
      status: 100,
    });
  });

  it('accepts a well-formed surrogate pair in an identifier', () => {
    expect(parse(event({ customer_id: '"caf\\u00e9-\\ud83d\\ude00"' })).customer_id).toBe('café-😀');
  });

  it('accepts an event of exactly maxEventBytes', () => {
    const raw = event();
    expect(parse(raw, { ...DEFAULT_PARSE_LIMITS, maxEventBytes: raw.length }).status).toBe(200);
  });
});

describe('parseRequestEvent: ISO-8601 timestamps', () => {
  it.each([
    ['2026-03-01T11:59:59Z', NOW - 1000],
    ['2026-03-01T11:59:59.5Z', NOW - 500],
    ['2026-03-01T11:59:59.123456789Z', NOW - 877],
    ['2026-03-01T12:59:59+01:00', NOW - 1000],
    ['2026-03-01T06:29:59-05:30', NOW - 1000],
    ['2026-03-01T13:59:59+0200', NOW - 1000],
    ['2026-03-01t11:59z', NOW - 60_000],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['0050-06-15T00:00:00Z', Date.parse('0050-06-15T00:00:00Z')],
    ['2000-03-01T00:00:00+14:00', Date.parse('2000-03-01T00:00:00+14:00')],
  ])('%s is %d ms', (iso, millis) => {
    expect(tsOf(iso)).toBe(millis);
  });

  it.each([
    ['no offset', '2026-03-01T11:59:59'],
    ['a date only', '2026-03-01'],
    ['31 April', '2026-04-31T00:00:00Z'],
    ['29 February in a common year', '2026-02-29T00:00:00Z'],
    ['hour 24', '2026-03-01T24:00:00Z'],
    ['a leap second', '2026-03-01T11:59:60Z'],
    ['an offset of 25 hours', '2026-03-01T11:59:59+25:00'],
    ['an RFC 2822 date', 'Sun, 01 Mar 2026 11:59:59 GMT'],
    ['epoch millis in a string', String(NOW)],
    ['padding', ' 2026-03-01T11:59:59Z'],
  ])('refuses %s as wrong_type', (_name, text) => {
    expectRefusal(event({ ts: JSON.stringify(text) }), 'wrong_type', 'ts');
  });
});

describe('parseRequestEvent: refusals', () => {
  it.each(REQUIRED)('%s missing or null is missing_field', (field) => {
    expect(expectRefusal(event({ [field]: undefined }), 'missing_field', field)).toBe(`${field} is missing`);
    expect(expectRefusal(event({ [field]: 'null' }), 'missing_field', field)).toBe(`${field} is null`);
  });

  it.each([
    ['event_id', '42'],
    ['service', '{"name":"checkout"}'],
    ['endpoint', '["/a"]'],
    ['method', 'true'],
    ['customer_id', '7'],
    ['region', '[]'],
    ['status', '"200"'],
    ['status', '200.5'],
    ['latency_ms', '"12.5"'],
    ['bytes_out', '1.5'],
    ['bytes_out', '"1834"'],
    ['ts', 'true'],
    ['ts', `${NOW - 1000}.5`],
    ['ts', '{"$date":1}'],
  ])('%s = %s is wrong_type', (field, text) => {
    expectRefusal(event({ [field]: text }), 'wrong_type', field);
  });

  it.each([
    ['status', '99', 'status 99 is outside 100–599'],
    ['status', '600', 'status 600 is outside 100–599'],
    ['latency_ms', '-0.5', 'latency_ms -0.5 is negative'],
    ['latency_ms', '3600000.5', 'latency_ms 3600000.5 is more than the 3600000 allowed'],
    ['latency_ms', '1e999', 'latency_ms Infinity is not finite'],
    ['bytes_out', '-1', 'bytes_out -1 is negative'],
    [
      'bytes_out',
      '9007199254740993',
      'bytes_out 9007199254740992 is above 2^53 − 1, so it is no longer exact',
    ],
    ['bytes_out', '1e999', 'bytes_out Infinity is above 2^53 − 1, so it is no longer exact'],
    ['service', '""', 'service is empty: ""'],
    ['region', '" \\t "', 'region is empty: " \\t "'],
    ['method', '"GE T"', 'method "GE T" is not an HTTP method (1–16 letters)'],
    ['method', '"G3T"', 'method "G3T" is not an HTTP method (1–16 letters)'],
    ['method', '"ABCDEFGHIJKLMNOPQ"', 'method "ABCDEFGHIJKLMNOPQ" is not an HTTP method (1–16 letters)'],
  ])('%s = %s is out_of_range', (field, text, detail) => {
    expect(expectRefusal(event({ [field]: text }), 'out_of_range', field)).toBe(detail);
  });

  it('bounds identifiers by maxIdentifierLength, after trimming', () => {
    expect(parse(event({ endpoint: JSON.stringify(` /${'a'.repeat(127)} `) })).endpoint).toHaveLength(128);
    const detail = expectRefusal(
      event({ endpoint: JSON.stringify(`/${'a'.repeat(128)}`) }),
      'out_of_range',
      'endpoint',
    );
    expect(detail).toMatch(/^endpoint is 129 characters, more than 128: "\/a{99}"…$/);
    const limits = { ...DEFAULT_PARSE_LIMITS, maxIdentifierLength: 8 };
    expectRefusal(event({ endpoint: '"/a"', region: '"eu-west-1"' }), 'out_of_range', 'region', limits);
  });

  it('refuses an oversized event from its length, before decoding it', () => {
    const raw = Buffer.alloc(DEFAULT_PARSE_LIMITS.maxEventBytes + 1, 0xff); // not UTF-8 either
    expect(expectRefusal(raw, 'oversized', 'event')).toBe(
      'event is 65537 bytes, more than the 65536 allowed',
    );
    expectRefusal(event(), 'oversized', 'event', { ...DEFAULT_PARSE_LIMITS, maxEventBytes: 100 });
  });

  it('refuses bytes that are not UTF-8, saying where', () => {
    const raw = Buffer.concat([Buffer.from('{"service":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    expect(expectRefusal(raw, 'invalid_encoding', 'event')).toBe(
      'event is not valid UTF-8: bad sequence at byte 15 (0xc3)',
    );
    const surrogate = Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]); // {"<U+D800>":1}
    expect(expectRefusal(surrogate, 'invalid_encoding', 'event')).toContain('byte 2 (0xed)');
  });

  it('refuses a NUL character or a lone surrogate inside a field, naming it', () => {
    expect(expectRefusal(event({ service: '"check\\u0000out"' }), 'invalid_encoding', 'service')).toBe(
      'service contains a NUL character: "check\\u0000out"',
    );
    expectRefusal(event({ region: '"eu\\ud800"' }), 'invalid_encoding', 'region');
    expectRefusal(event({ event_id: '"\\udc00x"' }), 'invalid_encoding', 'event_id');
    expectRefusal(event({ method: '"\\ud83dGET"' }), 'invalid_encoding', 'method');
    expectRefusal(event({ ts: '"2026-03-01T11:59:59Z\\u0000"' }), 'invalid_encoding', 'ts');
  });

  it.each([
    ['empty', ''],
    ['whitespace', ' \n\t '],
    ['truncated', '{"service":"checkout"'],
    ['a NaN literal', '{"latency_ms":NaN}'],
    ['a raw NUL byte', '{"service":"a\u0000b"}'],
  ])('refuses %s input as malformed_json with the parser message', (_name, text) => {
    const detail = expectRefusal(Buffer.from(text), 'malformed_json', 'event is not valid JSON: ');
    expect(detail.length).toBeGreaterThan('event is not valid JSON: ""'.length);
    expect(detail).not.toContain('\u0000');
  });

  it.each([
    ['an array', '[{"service":"checkout"}]', 'array'],
    ['a string', '"checkout"', 'string'],
    ['a number', '42', 'number'],
    ['null', 'null', 'null'],
    ['a boolean', 'true', 'boolean'],
  ])('refuses %s at the top level as not_an_object', (_name, text, type) => {
    expect(expectRefusal(Buffer.from(text), 'not_an_object', 'event')).toContain(`got ${type}`);
  });

  it('refuses a top-level key given twice, naming it, even when both values are valid', () => {
    const raw = Buffer.from(event().toString().replace('"status":200', '"status":200,"status":201'));
    expect(expectRefusal(raw, 'duplicate_key', 'status')).toBe('key "status" appears more than once');
    expectRefusal(event({ '\\u0073ervice': '"other"' }), 'duplicate_key', 'service');
    expectRefusal(
      Buffer.from(event().toString().replace('{', '{"__proto__":1,"__proto__":2,')),
      'duplicate_key',
      '__proto__',
    );
  });

  it('ignores duplicate keys inside nested values of extra fields', () => {
    expect(parse(event({ extra: '{"a":1,"a":2}' })).status).toBe(200);
  });

  it('reports the first problem in schema order', () => {
    expectRefusal(event({ status: '700', service: undefined }), 'missing_field', 'service');
  });

  it('throws ValidationErrors whose reason is in the closed set', () => {
    const error = refusal(event({ status: '"x"' }));
    expect(error.code).toBe('TRIBUTARY_RECORD_INVALID');
    expect(DEAD_LETTER_REASONS).toContain(error.reason);
    expect(error.message).toBe(`${error.reason}: ${error.detail}`);
  });
});

describe('parseRequestEvent: timestamp bounds', () => {
  const limits = DEFAULT_PARSE_LIMITS;

  it('accepts ts exactly at both bounds and refuses 1 ms beyond', () => {
    expect(parse(event({ ts: String(NOW - limits.maxPastMs) })).ts).toBe(NOW - limits.maxPastMs);
    expect(parse(event({ ts: String(NOW + limits.maxFutureMs) })).ts).toBe(NOW + limits.maxFutureMs);
    expectRefusal(event({ ts: String(NOW - limits.maxPastMs - 1) }), 'timestamp_out_of_bounds', 'ts');
    expectRefusal(event({ ts: String(NOW + limits.maxFutureMs + 1) }), 'timestamp_out_of_bounds', 'ts');
  });

  it('says when a numeric ts looks like seconds or microseconds', () => {
    const seconds = expectRefusal(event({ ts: String(NOW / 1000) }), 'timestamp_out_of_bounds', 'ts');
    expect(seconds).toBe(
      'ts 1772366400 is 56.1 years before ingest time, more than the 7 days allowed; it looks like seconds, not milliseconds',
    );
    const micros = expectRefusal(event({ ts: String(NOW * 1000) }), 'timestamp_out_of_bounds', 'ts');
    expect(micros).toMatch(
      /^ts 1772366400000000 is .* after ingest time, more than the 5 minutes allowed; it looks like microseconds/,
    );
  });

  it('gives no unit hint for a plausible millisecond value or an ISO string', () => {
    const past = expectRefusal(event({ ts: String(NOW - 30 * DAY) }), 'timestamp_out_of_bounds', 'ts');
    expect(past).toBe('ts 1769774400000 is 30 days before ingest time, more than the 7 days allowed');
    const future = expectRefusal(event({ ts: '"2026-03-01T13:00:00Z"' }), 'timestamp_out_of_bounds', 'ts');
    expect(future).toBe(
      'ts "2026-03-01T13:00:00Z" is 1 hour after ingest time, more than the 5 minutes allowed',
    );
  });

  it('refuses an infinite ts as out of bounds', () => {
    expect(expectRefusal(event({ ts: '-1e999' }), 'timestamp_out_of_bounds', 'ts')).toContain(
      'infinitely long before',
    );
  });
});
