// The inputs producers actually get wrong, and a few hostile ones: each with the exact outcome ingest
// owes it. A refusal must carry its reason and a detail that names the field (or the event as a whole).
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../runtime/errors.ts';
import { DEFAULT_PARSE_LIMITS, parseRequestEvent } from './parse-event.ts';
import type { DeadLetterReason } from './reasons.ts';
import { NOW, rawEvent, rawEventJson } from './test-events.ts';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const json = rawEventJson;
const event = rawEvent;
const text = (value: string) => Buffer.from(value);
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

type Expected = 'valid' | { reason: DeadLetterReason; mentions: string };
const refused = (reason: DeadLetterReason, mentions: string): Expected => ({ reason, mentions });

const CORPUS: [name: string, raw: Buffer, expected: Expected][] = [
  // Size and encoding
  [
    'a 10 MB string value',
    event({ service: `"${'a'.repeat(10 * 1024 * 1024)}"` }),
    refused('oversized', 'event'),
  ],
  [
    '10 MB of invalid UTF-8 (size is checked first)',
    Buffer.alloc(10 * 1024 * 1024, 0xff),
    refused('oversized', 'event'),
  ],
  ['invalid UTF-8 bytes 0xff 0xfe', Buffer.from([0xff, 0xfe]), refused('invalid_encoding', 'event')],
  [
    'invalid UTF-8 inside a string',
    bytes('{"service":"a', [0xff], '"}'),
    refused('invalid_encoding', 'event'),
  ],
  [
    'an overlong UTF-8 encoding of "/"',
    bytes('{"endpoint":"', [0xc0, 0xaf], '"}'),
    refused('invalid_encoding', 'event'),
  ],
  [
    'a UTF-8-encoded surrogate',
    bytes('{"region":"', [0xed, 0xa0, 0x80], '"}'),
    refused('invalid_encoding', 'event'),
  ],
  [
    'a truncated UTF-8 sequence at the end',
    bytes(json(), [0xe2, 0x82]),
    refused('invalid_encoding', 'event'),
  ],
  ['a UTF-8 byte-order mark (dropped by the decoder)', bytes([0xef, 0xbb, 0xbf], json()), 'valid'],
  [
    'a lone high surrogate escape',
    event({ service: '"pay\\ud800"' }),
    refused('invalid_encoding', 'service'),
  ],
  ['a lone low surrogate escape', event({ endpoint: '"/\\udfff"' }), refused('invalid_encoding', 'endpoint')],
  [
    'reversed surrogate escapes',
    event({ customer_id: '"\\ude00\\ud83d"' }),
    refused('invalid_encoding', 'customer_id'),
  ],
  ['a surrogate pair in escapes', event({ customer_id: '"c-\\ud83d\\ude00"' }), 'valid'],
  ['a raw NUL byte inside a string', bytes('{"service":"a', [0], 'b"}'), refused('malformed_json', 'event')],
  ['a raw NUL byte between tokens', bytes('{', [0], '"service":"a"}'), refused('malformed_json', 'event')],
  ['an escaped NUL in a field', event({ region: '"eu\\u0000"' }), refused('invalid_encoding', 'region')],
  ['an escaped NUL in event_id', event({ event_id: '"\\u0000"' }), refused('invalid_encoding', 'event_id')],
  ['an escaped NUL in an unknown field', event({}, '"note":"\\u0000"'), 'valid'],

  // Not JSON, or not an object
  ['an empty value', text(''), refused('malformed_json', 'event')],
  ['whitespace only', text(' \r\n\t '), refused('malformed_json', 'event')],
  ['a truncated object', text(json().slice(0, -1)), refused('malformed_json', 'event')],
  ['trailing garbage', text(`${json()}x`), refused('malformed_json', 'event')],
  ['a trailing comma', text(json().replace(/}$/, ',}')), refused('malformed_json', 'event')],
  ['single quotes', text("{'service':'checkout'}"), refused('malformed_json', 'event')],
  ['a comment', text(`/* hi */${json()}`), refused('malformed_json', 'event')],
  ['two concatenated objects', text(`${json()}${json()}`), refused('malformed_json', 'event')],
  ['a NaN literal', event({ latency_ms: 'NaN' }), refused('malformed_json', 'event')],
  ['an Infinity literal', event({ latency_ms: 'Infinity' }), refused('malformed_json', 'event')],
  ['a JSON array', text(`[${json()}]`), refused('not_an_object', 'event')],
  ['a JSON string', text(JSON.stringify(json())), refused('not_an_object', 'event')],
  ['a JSON number', text('200'), refused('not_an_object', 'event')],
  ['JSON null', text('null'), refused('not_an_object', 'event')],
  ['JSON true', text('true'), refused('not_an_object', 'event')],

  // Keys
  ['a duplicate key with the same value', event({}, '"status":200'), refused('duplicate_key', 'status')],
  [
    'a duplicate key with another value',
    event({}, '"region":"us-east-1"'),
    refused('duplicate_key', 'region'),
  ],
  [
    'a duplicate key spelt with an escape',
    event({}, '"\\u0065vent_id":"e-2"'),
    refused('duplicate_key', 'event_id'),
  ],
  ['a duplicate unknown key', event({}, '"x":1', '"x":2'), refused('duplicate_key', 'x')],
  ['duplicate keys inside an unknown nested object', event({}, '"meta":{"a":1,"a":2}'), 'valid'],
  ['extra unknown fields', event({}, '"trace_id":"abc"', '"tags":["a","b"]', '"retry":true'), 'valid'],
  ['deeply nested unknown field', event({}, `"deep":${'['.repeat(500)}${']'.repeat(500)}`), 'valid'],
  ['an empty object', text('{}'), refused('missing_field', 'event_id')],
  ['a missing status', event({ status: undefined }), refused('missing_field', 'status')],
  ['a missing ts', event({ ts: undefined }), refused('missing_field', 'ts')],
  ['a null region', event({ region: 'null' }), refused('missing_field', 'region')],
  [
    'a field under the wrong case',
    event({ service: undefined }, '"Service":"checkout"'),
    refused('missing_field', 'service'),
  ],

  // Types
  ['a nested object as service', event({ service: '{"name":"checkout"}' }), refused('wrong_type', 'service')],
  ['an array as status', event({ status: '[200]' }), refused('wrong_type', 'status')],
  ['an object as ts', event({ ts: '{"$date":1}' }), refused('wrong_type', 'ts')],
  ['a number as event_id', event({ event_id: '12345' }), refused('wrong_type', 'event_id')],
  ['a boolean as method', event({ method: 'true' }), refused('wrong_type', 'method')],
  ['status as a string', event({ status: '"200"' }), refused('wrong_type', 'status')],
  ['latency_ms as a string', event({ latency_ms: '"12.5"' }), refused('wrong_type', 'latency_ms')],
  ['bytes_out as a string', event({ bytes_out: '"1834"' }), refused('wrong_type', 'bytes_out')],
  ['ts millis as a string', event({ ts: `"${NOW}"` }), refused('wrong_type', 'ts')],
  ['"NaN" as a string', event({ latency_ms: '"NaN"' }), refused('wrong_type', 'latency_ms')],
  ['"Infinity" as a string', event({ bytes_out: '"Infinity"' }), refused('wrong_type', 'bytes_out')],
  ['a fractional status', event({ status: '200.5' }), refused('wrong_type', 'status')],
  ['status 200.0 (the integer 200)', event({ status: '200.0' }), 'valid'],
  ['status 2e2 (the integer 200)', event({ status: '2e2' }), 'valid'],
  ['a fractional bytes_out', event({ bytes_out: '1.5' }), refused('wrong_type', 'bytes_out')],
  ['a fractional ts', event({ ts: `${NOW}.25` }), refused('wrong_type', 'ts')],
  ['a boolean as status', event({ status: 'true' }), refused('wrong_type', 'status')],
  [
    'ts as a local time without an offset',
    event({ ts: '"2026-03-01T11:59:00"' }),
    refused('wrong_type', 'ts'),
  ],
  ['ts as prose', event({ ts: '"yesterday"' }), refused('wrong_type', 'ts')],
  ['ts as an ISO string with Z', event({ ts: '"2026-03-01T11:59:00.000Z"' }), 'valid'],
  ['ts as an ISO string with an offset', event({ ts: '"2026-03-01T12:59:00+01:00"' }), 'valid'],

  // Ranges
  ['latency 1e999 (Infinity)', event({ latency_ms: '1e999' }), refused('out_of_range', 'latency_ms')],
  ['latency -1e999', event({ latency_ms: '-1e999' }), refused('out_of_range', 'latency_ms')],
  ['a negative latency', event({ latency_ms: '-1' }), refused('out_of_range', 'latency_ms')],
  ['an absurd latency (31 years)', event({ latency_ms: '1e12' }), refused('out_of_range', 'latency_ms')],
  ['latency -0', event({ latency_ms: '-0' }), 'valid'],
  ['bytes_out 2^53 + 1', event({ bytes_out: '9007199254740993' }), refused('out_of_range', 'bytes_out')],
  ['bytes_out 1e20', event({ bytes_out: '1e20' }), refused('out_of_range', 'bytes_out')],
  ['bytes_out 1e999', event({ bytes_out: '1e999' }), refused('out_of_range', 'bytes_out')],
  ['bytes_out 2^53 - 1', event({ bytes_out: String(MAX_SAFE) }), 'valid'],
  ['a negative bytes_out', event({ bytes_out: '-5' }), refused('out_of_range', 'bytes_out')],
  ['status 99', event({ status: '99' }), refused('out_of_range', 'status')],
  ['status 600', event({ status: '600' }), refused('out_of_range', 'status')],
  ['status 1e999', event({ status: '1e999' }), refused('out_of_range', 'status')],
  ['status 100', event({ status: '100' }), 'valid'],
  ['status 599', event({ status: '599' }), 'valid'],
  ['an empty service', event({ service: '""' }), refused('out_of_range', 'service')],
  ['a whitespace-only region', event({ region: '"  \\t "' }), refused('out_of_range', 'region')],
  ['an empty event_id', event({ event_id: '""' }), refused('out_of_range', 'event_id')],
  ['an empty method', event({ method: '""' }), refused('out_of_range', 'method')],
  [
    'a 129-character customer_id',
    event({ customer_id: `"${'c'.repeat(129)}"` }),
    refused('out_of_range', 'customer_id'),
  ],
  ['a 128-character customer_id', event({ customer_id: `"${'c'.repeat(128)}"` }), 'valid'],
  [
    'a 2,000-character endpoint',
    event({ endpoint: `"/${'x'.repeat(2000)}"` }),
    refused('out_of_range', 'endpoint'),
  ],
  ['a method with a digit', event({ method: '"GET1"' }), refused('out_of_range', 'method')],
  ['a lower-case method', event({ method: '"get"' }), 'valid'],

  // Timestamps
  ['ts in seconds', event({ ts: String(NOW / 1000) }), refused('timestamp_out_of_bounds', 'ts')],
  ['ts in microseconds', event({ ts: String(NOW * 1000) }), refused('timestamp_out_of_bounds', 'ts')],
  ['ts in nanoseconds', event({ ts: '1772366400000000000' }), refused('timestamp_out_of_bounds', 'ts')],
  ['ts 0', event({ ts: '0' }), refused('timestamp_out_of_bounds', 'ts')],
  ['a negative ts', event({ ts: '-1' }), refused('timestamp_out_of_bounds', 'ts')],
  ['ts in the far past', event({ ts: '"2000-01-01T00:00:00Z"' }), refused('timestamp_out_of_bounds', 'ts')],
  ['ts in the far future', event({ ts: '"2100-01-01T00:00:00Z"' }), refused('timestamp_out_of_bounds', 'ts')],
  ['ts 8 days ago', event({ ts: String(NOW - 8 * 86_400_000) }), refused('timestamp_out_of_bounds', 'ts')],
  ['ts 6 minutes ahead', event({ ts: String(NOW + 6 * 60_000) }), refused('timestamp_out_of_bounds', 'ts')],
  ['ts 4 minutes ahead (clock skew)', event({ ts: String(NOW + 4 * 60_000) }), 'valid'],
];

describe('bad-input corpus', () => {
  it.each(CORPUS)('%s', (_name, raw, expected) => {
    let outcome: Expected;
    let detail = '';
    try {
      parseRequestEvent(raw, DEFAULT_PARSE_LIMITS, NOW);
      outcome = 'valid';
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      outcome = {
        reason: error.reason as DeadLetterReason,
        mentions: expected === 'valid' ? '' : expected.mentions,
      };
      detail = error.detail;
    }
    expect(outcome, detail).toEqual(expected);
    if (expected !== 'valid') {
      expect(detail).toContain(expected.mentions);
      expect(detail.length, detail).toBeLessThan(250);
      expect(detail, 'a detail holds no NUL').not.toContain('\u0000');
      expect(detail, 'a detail holds no lone surrogate').not.toMatch(/[\ud800-\udfff]/u);
    }
  });
});
