// Values to ClickHouse TabSeparated text, checked against the column type first: a value the column
// cannot hold is a ValidationError (the row is dead-lettered), never a silent wrap or truncation
// (ClickHouse itself wraps 70000 into a UInt16). TabSeparated is byte-exact: bytes that are not UTF-8
// are written as \xNN escapes, so a Buffer round-trips.
import { ValidationError } from '../../runtime/index.ts';

export type ValueEncoder = (value: unknown, column: string) => string;

const NULL = '\\N';
const INT_RANGES: Record<string, [number, number]> = {
  UInt8: [0, 255],
  UInt16: [0, 65_535],
  UInt32: [0, 4_294_967_295],
  UInt64: [0, Number.MAX_SAFE_INTEGER],
  Int8: [-128, 127],
  Int16: [-32_768, 32_767],
  Int32: [-2_147_483_648, 2_147_483_647],
  Int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};
/** DateTime64's range: 1900-01-01 to 2299-12-31 (UTC), in epoch ms. */
const DATETIME64_MS: [number, number] = [-2_208_988_800_000, 10_413_791_999_999];

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '\0': '\\0',
  '\b': '\\b',
  '\f': '\\f',
};

const NEEDS_ESCAPE = /[\\\t\n\r\0\b\f]/;
const TO_ESCAPE = /[\\\t\n\r\0\b\f]/g;

export function escapeText(text: string): string {
  // Most values need no escape: a test is far cheaper than a replace that finds nothing.
  return NEEDS_ESCAPE.test(text) ? text.replace(TO_ESCAPE, (c) => ESCAPES[c] ?? c) : text;
}

/** Bytes as TabSeparated text: valid UTF-8 stays readable, anything else becomes \xNN. */
export function escapeBytes(bytes: Buffer): string {
  const decoded = bytes.toString('utf8');
  if (Buffer.byteLength(decoded) === bytes.length && !decoded.includes('\uFFFD')) return escapeText(decoded);
  let out = '';
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    out +=
      byte >= 0x20 && byte < 0x7f ? (c === '\\' ? '\\\\' : c) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

function rejectType(column: string, type: string, value: unknown): never {
  throw new ValidationError('wrong_type', `${column}: ${type} cannot hold ${describe(value)}`);
}

function rejectRange(column: string, type: string, value: unknown): never {
  throw new ValidationError('value_out_of_range', `${column}: ${describe(value)} is outside ${type}`);
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return `${typeof value} ${text.slice(0, 80)}`;
}

function integer(type: string, range: [number, number]): ValueEncoder {
  return (value, column) => {
    if (typeof value === 'bigint') {
      if (value < BigInt(range[0]) || value > BigInt(range[1])) rejectRange(column, type, value);
      return value.toString();
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) return rejectType(column, type, value);
    if (value < range[0] || value > range[1]) rejectRange(column, type, value);
    return String(value);
  };
}

function float(type: string): ValueEncoder {
  return (value, column) => {
    if (typeof value !== 'number') return rejectType(column, type, value);
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  };
}

function text(type: string): ValueEncoder {
  return (value, column) => {
    if (typeof value === 'string') return escapeText(value);
    if (Buffer.isBuffer(value)) return escapeBytes(value);
    return rejectType(column, type, value);
  };
}

/**
 * Epoch ms (Avro timestamp-millis) → `YYYY-MM-DD hh:mm:ss.mmm` in UTC, unambiguous for ClickHouse. The
 * text up to the second is kept from the previous value: a batch's times mostly share their second.
 */
function dateTime64(type: string): ValueEncoder {
  let second = Number.NaN;
  let upToSecond = '';
  return (value, column) => {
    const ms = value instanceof Date ? value.getTime() : value;
    if (typeof ms !== 'number' || !Number.isInteger(ms)) return rejectType(column, type, value);
    if (ms < DATETIME64_MS[0] || ms > DATETIME64_MS[1]) rejectRange(column, type, value);
    const valueSecond = Math.floor(ms / 1000);
    if (valueSecond !== second) {
      second = valueSecond;
      upToSecond = new Date(valueSecond * 1000).toISOString().slice(0, 19).replace('T', ' ');
    }
    const millis = ms - valueSecond * 1000;
    return `${upToSecond}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}`;
  };
}

function boolean(type: string): ValueEncoder {
  return (value, column) => (typeof value === 'boolean' ? String(value) : rejectType(column, type, value));
}

function unwrap(type: string, wrapper: string): string | undefined {
  const prefix = `${wrapper}(`;
  return type.startsWith(prefix) && type.endsWith(')') ? type.slice(prefix.length, -1) : undefined;
}

/** Arrays of numbers (e.g. a latency sketch's buckets), each element checked by its own encoder. */
function numberArray(type: string, element: ValueEncoder): ValueEncoder {
  return (value, column) => {
    if (!Array.isArray(value)) return rejectType(column, type, value);
    return `[${value.map((item: unknown, i) => element(item, `${column}[${i}]`)).join(',')}]`;
  };
}

/** Enum8/Enum16 by name (Avro enums decode to their symbol): only the type's own names are accepted. */
function enumeration(type: string): ValueEncoder {
  const names = new Set([...type.matchAll(/'((?:[^'\\]|\\.)*)'\s*=\s*-?\d+/g)].map((m) => m[1] ?? ''));
  return (value, column) => {
    if (typeof value !== 'string') return rejectType(column, type, value);
    if (!names.has(value))
      throw new ValidationError('value_out_of_range', `${column}: ${describe(value)} is not in ${type}`);
    return escapeText(value);
  };
}

const STRING_TYPES = new Set(['String', 'LowCardinality(String)']);

/** A string in ClickHouse's quoted form, as elements of a Map or Array are written inside TabSeparated. */
function quoted(text: string): string {
  return `'${escapeText(text).replace(/'/g, "\\'")}'`;
}

/** Map(String, String) (LowCardinality keys too), e.g. an alert's labels: `{'k':'v',…}`. */
function stringMap(type: string, keyValue: string): ValueEncoder | undefined {
  const [key, value, ...rest] = keyValue.split(/,\s*/);
  if (rest.length > 0 || !STRING_TYPES.has(key ?? '') || !STRING_TYPES.has(value ?? '')) return undefined;
  return (map, column) => {
    if (map === null || typeof map !== 'object' || Array.isArray(map)) return rejectType(column, type, map);
    const entries = map instanceof Map ? [...(map as Map<unknown, unknown>)] : Object.entries(map);
    const pairs = entries.map(([k, v]) => {
      if (typeof k !== 'string' || typeof v !== 'string')
        return rejectType(`${column}[${String(k)}]`, type, v);
      return `${quoted(k)}:${quoted(v)}`;
    });
    return `{${pairs.join(',')}}`;
  };
}

/** The encoder for a ClickHouse column type; undefined for a type this sink does not write. */
export function encoderFor(type: string): ValueEncoder | undefined {
  const arrayOf = unwrap(type, 'Array');
  if (arrayOf !== undefined) {
    // Only numeric elements: they need no quoting inside the array's brackets.
    const numeric = INT_RANGES[arrayOf] !== undefined || arrayOf === 'Float32' || arrayOf === 'Float64';
    const element = numeric ? encoderFor(arrayOf) : undefined;
    return element === undefined ? undefined : numberArray(type, required(element, arrayOf));
  }
  const nullableOf = unwrap(type, 'Nullable');
  if (nullableOf !== undefined) {
    const inner = encoderFor(nullableOf);
    if (inner === undefined) return undefined;
    return (value, column) => (value === null || value === undefined ? NULL : inner(value, column));
  }
  const lowCardinalityOf = unwrap(type, 'LowCardinality');
  if (lowCardinalityOf !== undefined) return encoderFor(lowCardinalityOf);
  if (type.startsWith('Enum8(') || type.startsWith('Enum16(')) return enumeration(type);
  const mapOf = unwrap(type, 'Map');
  if (mapOf !== undefined) return stringMap(type, mapOf);
  const range = INT_RANGES[type];
  if (range !== undefined) return integer(type, range);
  if (type === 'Float32' || type === 'Float64') return float(type);
  if (type === 'String' || type.startsWith('FixedString(')) return text(type);
  if (type.startsWith('DateTime64(')) return dateTime64(type);
  if (type === 'Bool') return boolean(type);
  return undefined;
}

/** Wraps an encoder so a missing value is a clear rejection (Nullable columns write NULL instead). */
export function required(encoder: ValueEncoder, type: string): ValueEncoder {
  if (type.startsWith('Nullable(')) return encoder;
  return (value, column) => {
    if (value === null || value === undefined)
      throw new ValidationError('missing_field', `${column}: no value for a ${type} column`);
    return encoder(value, column);
  };
}
