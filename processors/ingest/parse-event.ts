// Validation and normalisation of one raw request event (PIPELINE.md, "The event"), pure and fast:
// size, UTF-8, one JSON.parse, duplicate keys, then each field in schema order. The first problem
// found is thrown as a ValidationError carrying a DeadLetterReason and a short detail.
import { describeError } from '../../runtime/errors.ts';
import type { RequestEvent } from '../../runtime/index.ts';
import { findDuplicateTopLevelKey } from './json-keys.ts';
import { describeValue, reject, safeText, showValue } from './reasons.ts';

export interface ParseLimits {
  /** Largest raw event accepted, in bytes. Default 65536. */
  readonly maxEventBytes: number;
  /** Longest identifier (event_id, service, endpoint, customer_id, region) after trimming, in UTF-16 code units. Default 128. */
  readonly maxIdentifierLength: number;
  /** How far before ingest time `ts` may be, in ms. Default 7 days. */
  readonly maxPastMs: number;
  /** How far after ingest time `ts` may be, in ms. Default 5 minutes. */
  readonly maxFutureMs: number;
  /** Largest `latency_ms` accepted, in ms. Default 3 600 000 (one hour). */
  readonly maxLatencyMs: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxEventBytes: 65_536,
  maxIdentifierLength: 128,
  maxPastMs: 7 * 24 * 60 * 60 * 1000,
  maxFutureMs: 5 * 60 * 1000,
  maxLatencyMs: 3_600_000,
});

const utf8 = new TextDecoder('utf-8', { fatal: true });
const HTTP_METHOD = /^[A-Za-z]{1,16}$/;
// RFC 3339 / ISO-8601 extended format with a mandatory offset: 2026-03-01T12:00:00.123+01:00.
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Validates and normalises one raw event into the Avro record `RequestEvent` (schemas/request-event.avsc),
 * or throws a ValidationError whose `reason` is a DeadLetterReason. Identifiers are trimmed (event_id keeps
 * its case; service, endpoint, customer_id and region are lower-cased), the method upper-cased, `ts` is
 * epoch ms UTC. `now` (epoch ms) bounds `ts` and becomes `ingested_at`.
 */
export function parseRequestEvent(raw: Uint8Array, limits: ParseLimits, now: number): RequestEvent {
  if (raw.length > limits.maxEventBytes) {
    reject('oversized', `event is ${raw.length} bytes, more than the ${limits.maxEventBytes} allowed`);
  }
  const text = decodeUtf8(raw);
  const parsed = parseJson(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    reject('not_an_object', `event must be a JSON object, got ${describeValue(parsed)}`);
  }
  const event = parsed as Record<string, unknown>;
  const duplicate = findDuplicateTopLevelKey(text, Object.keys(event).length);
  if (duplicate !== undefined) reject('duplicate_key', `key ${showValue(duplicate)} appears more than once`);
  const maxLength = limits.maxIdentifierLength;
  return {
    event_id: identifier(event.event_id, 'event_id', maxLength),
    ts: timestamp(event.ts, limits, now),
    service: identifier(event.service, 'service', maxLength).toLowerCase(),
    endpoint: identifier(event.endpoint, 'endpoint', maxLength).toLowerCase(),
    method: httpMethod(event.method),
    status: httpStatus(event.status),
    latency_ms: latency(event.latency_ms, limits.maxLatencyMs),
    bytes_out: byteCount(event.bytes_out),
    customer_id: identifier(event.customer_id, 'customer_id', maxLength).toLowerCase(),
    region: identifier(event.region, 'region', maxLength).toLowerCase(),
    ingested_at: now,
  };
}

function decodeUtf8(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch {
    const at = invalidUtf8Offset(raw);
    const byte = (raw[at] ?? 0).toString(16).padStart(2, '0');
    return reject('invalid_encoding', `event is not valid UTF-8: bad sequence at byte ${at} (0x${byte})`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return reject('malformed_json', `event is not valid JSON: ${safeText(describeError(error))}`);
  }
}

function identifier(value: unknown, field: string, maxLength: number): string {
  const trimmed = stringField(value, field).trim();
  if (trimmed.length === 0) reject('out_of_range', `${field} is empty: ${showValue(value)}`);
  if (trimmed.length > maxLength) {
    reject(
      'out_of_range',
      `${field} is ${trimmed.length} characters, more than ${maxLength}: ${showValue(trimmed)}`,
    );
  }
  return trimmed;
}

function httpMethod(value: unknown): string {
  const trimmed = stringField(value, 'method').trim();
  if (!HTTP_METHOD.test(trimmed)) {
    reject('out_of_range', `method ${showValue(value)} is not an HTTP method (1–16 letters)`);
  }
  return trimmed.toUpperCase();
}

function httpStatus(value: unknown): number {
  const status = integerField(value, 'status');
  if (!(status >= 100 && status <= 599)) reject('out_of_range', `status ${status} is outside 100–599`);
  return status;
}

function latency(value: unknown, maxLatencyMs: number): number {
  if (typeof value !== 'number') wrongType(value, 'latency_ms', 'a number');
  if (!Number.isFinite(value)) reject('out_of_range', `latency_ms ${value} is not finite`);
  if (value < 0) reject('out_of_range', `latency_ms ${value} is negative`);
  if (value > maxLatencyMs) {
    reject('out_of_range', `latency_ms ${value} is more than the ${maxLatencyMs} allowed`);
  }
  return value;
}

function byteCount(value: unknown): number {
  const bytes = integerField(value, 'bytes_out');
  if (bytes < 0) reject('out_of_range', `bytes_out ${bytes} is negative`);
  if (bytes > Number.MAX_SAFE_INTEGER) {
    reject('out_of_range', `bytes_out ${bytes} is above 2^53 − 1, so it is no longer exact`);
  }
  return bytes;
}

function timestamp(value: unknown, limits: ParseLimits, now: number): number {
  let millis: number;
  if (typeof value === 'number') {
    if (Number.isFinite(value) && !Number.isInteger(value)) {
      reject('wrong_type', `ts ${value} must be whole epoch milliseconds`);
    }
    millis = value;
  } else if (typeof value === 'string') {
    millis = parseIsoTimestamp(stringField(value, 'ts'));
    if (Number.isNaN(millis)) {
      reject('wrong_type', `ts ${showValue(value)} is not an ISO-8601 time with a Z or ±hh:mm offset`);
    }
  } else {
    wrongType(value, 'ts', 'epoch milliseconds or an ISO-8601 string');
  }
  if (millis < now - limits.maxPastMs || millis > now + limits.maxFutureMs) {
    reject('timestamp_out_of_bounds', timestampDetail(value, millis, now, limits));
  }
  return millis;
}

function timestampDetail(value: number | string, millis: number, now: number, limits: ParseLimits): string {
  const past = millis < now;
  const distance = formatDuration(past ? now - millis : millis - now);
  const allowed = formatDuration(past ? limits.maxPastMs : limits.maxFutureMs);
  const detail = `ts ${showValue(value)} is ${distance} ${past ? 'before' : 'after'} ingest time, more than the ${allowed} allowed`;
  if (typeof value !== 'number') return detail;
  if (value > 0 && value < 1e11) return `${detail}; it looks like seconds, not milliseconds`;
  if (value > 1e14) return `${detail}; it looks like microseconds, not milliseconds`;
  return detail;
}

/** A string field, checked for NUL characters and lone surrogates (which `\u0000`/`\ud800` escapes let through JSON.parse). */
function stringField(value: unknown, field: string): string {
  if (typeof value !== 'string') wrongType(value, field, 'a string');
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) reject('invalid_encoding', `${field} contains a NUL character: ${showValue(value)}`);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = value.charCodeAt(i + 1); // NaN past the end
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        reject('invalid_encoding', `${field} contains a lone surrogate: ${showValue(value)}`);
      }
      i++;
    }
  }
  return value;
}

/** An integer field. Integers past 2^53 pass here and are a range problem; 1e999 (Infinity) likewise. */
function integerField(value: unknown, field: string): number {
  if (typeof value !== 'number') wrongType(value, field, 'an integer');
  if (Number.isFinite(value) && !Number.isInteger(value)) {
    reject('wrong_type', `${field} must be an integer, got ${value}`);
  }
  return value;
}

function wrongType(value: unknown, field: string, expected: string): never {
  if (value === undefined) reject('missing_field', `${field} is missing`);
  if (value === null) reject('missing_field', `${field} is null`);
  return reject('wrong_type', `${field} must be ${expected}, got ${describeValue(value)}`);
}

/** UTC epoch ms of an ISO-8601 time with an explicit offset, or NaN when it is not one (or not a real date). */
function parseIsoTimestamp(text: string): number {
  const m = ISO_TIMESTAMP.exec(text);
  if (m === null) return Number.NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(`${m[7]}00`.slice(0, 3)); // digits past ms are truncated
  const offsetHours = m[10] === undefined ? 0 : Number(m[10]);
  const offsetMinutes = m[11] === undefined ? 0 : Number(m[11]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return Number.NaN;
  const offset = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes);
  const days = daysFromCivil(year, month, day);
  return ((days * 24 + hour) * 60 + minute - offset) * 60_000 + second * 1000 + millis;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm; Date.UTC maps years 0–99 to 19xx). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

const DURATION_UNITS: readonly (readonly [number, string])[] = [
  [365.25 * 86_400_000, 'year'],
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1000, 'second'],
];

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'infinitely long';
  for (const [size, unit] of DURATION_UNITS) {
    if (ms >= size) {
      const amount = Math.round((ms / size) * 10) / 10;
      return `${amount} ${unit}${amount === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (WHATWG rules, as TextDecoder), or -1. */
function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    let length = 1;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef)
      [length, low, high] = [3, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf];
    else if (b >= 0xf0 && b <= 0xf4)
      [length, low, high] = [4, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf];
    else if (b >= 0x80) return i;
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return -1;
}
