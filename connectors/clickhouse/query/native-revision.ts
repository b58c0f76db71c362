// Native output at the revision a client asks for (`client_protocol_version`), as ClickHouse's HTTP
// handler writes it. The engine writes the revision-0 layout; from revision 1 on each block starts with
// a BlockInfo, and from 54454 (custom serialization) each column's type is followed by one byte, 0 here.
// Re-framing needs each column's byte length, so this walks the data by type (bulk Native serialization:
// a Nullable's null map then its values, an Array's offsets then its elements, a Tuple element by element,
// a LowCardinality's dictionary then its indexes; the engine keeps LowCardinality in Native whatever
// low_cardinality_allow_in_native_format says, and clickhouse-go reads it).
import { TributaryError } from '../../../runtime/index.ts';

const WITH_CUSTOM_SERIALIZATION = 54454;
/** BlockInfo: field 1 is_overflows = false, field 2 bucket_num = -1, then field 0 = end. */
const BLOCK_INFO = Buffer.from([1, 0, 2, 0xff, 0xff, 0xff, 0xff, 0]);

const FIXED_SIZES: Record<string, number> = {
  UInt8: 1, Int8: 1, Bool: 1, Enum8: 1, Nothing: 1,
  UInt16: 2, Int16: 2, Date: 2, Enum16: 2, BFloat16: 2,
  UInt32: 4, Int32: 4, Float32: 4, Date32: 4, DateTime: 4, IPv4: 4, Decimal32: 4, Time: 4,
  UInt64: 8, Int64: 8, Float64: 8, DateTime64: 8, Decimal64: 8, Time64: 8,
  UInt128: 16, Int128: 16, UUID: 16, IPv6: 16, Decimal128: 16,
  UInt256: 32, Int256: 32, Decimal256: 32,
}; // prettier-ignore

function unsupported(type: string): TributaryError {
  return new TributaryError(
    'TRIBUTARY_CLICKHOUSE_QUERY_UNSUPPORTED',
    `Native output for client_protocol_version does not support the type ${type}: cast it, or use another format`,
    { context: { clickhouseCode: 50 } },
  );
}

class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}
  varint(): number {
    let value = 0;
    for (let shift = 1; ; shift *= 128) {
      const byte = this.buf[this.pos++];
      if (byte === undefined) throw new RangeError('truncated Native data');
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
    }
  }
  string(): string {
    const length = this.varint();
    this.pos += length;
    return this.buf.toString('utf8', this.pos - length, this.pos);
  }
}

/** Splits `A, B(C, D), E` at top-level commas. */
function typeArguments(inner: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === "'") i = inner.indexOf("'", i + 1);
    else if (c === ',' && depth === 0) {
      parts.push(inner.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(inner.slice(start).trim());
  return parts;
}

/** A Tuple element may be named: `name Type`. */
function elementType(part: string): string {
  const named = /^[A-Za-z_][A-Za-z0-9_]*\s+([A-Z].*)$/s.exec(part);
  return named?.[1] ?? part;
}

function decimalSize(precision: number): number {
  return precision <= 9 ? 4 : precision <= 18 ? 8 : precision <= 38 ? 16 : 32;
}

const INDEX_SIZES = [1, 2, 4, 8];
const HAS_ADDITIONAL_KEYS = 1 << 9;

function uint64(at: Cursor): number {
  at.pos += 8;
  return Number(at.buf.readBigUInt64LE(at.pos - 8));
}

/** Key version, then one granule: index type and flags, the dictionary keys, the indexes. */
function skipLowCardinality(inner: string, at: Cursor): void {
  uint64(at);
  const flags = uint64(at);
  if ((flags & HAS_ADDITIONAL_KEYS) !== 0) {
    const keys = uint64(at);
    // The dictionary of a LowCardinality(Nullable(T)) holds plain T (null is index 0).
    skipColumn(inner.replace(/^Nullable\((.*)\)$/s, '$1'), keys, at);
  }
  const indexes = uint64(at);
  at.pos += indexes * (INDEX_SIZES[flags & 0xff] ?? 8);
}

function skipColumn(type: string, rows: number, at: Cursor): void {
  if (rows === 0) return; // Native writes no bytes at all for an empty column

  const open = type.indexOf('(');
  const name = open < 0 ? type : type.slice(0, open);
  const args = open < 0 ? [] : typeArguments(type.slice(open + 1, type.lastIndexOf(')')));
  const fixed = FIXED_SIZES[name];
  if (fixed !== undefined) return void (at.pos += fixed * rows);
  switch (name) {
    case 'String':
      for (let i = 0; i < rows; i++) {
        const length = at.varint();
        at.pos += length;
      }
      return;
    case 'LowCardinality':
      return skipLowCardinality(args[0] ?? '', at);
    case 'FixedString':
      return void (at.pos += Number(args[0]) * rows);
    case 'Decimal':
      return void (at.pos += decimalSize(Number(args[0])) * rows);
    case 'Nullable':
      at.pos += rows;
      return skipColumn(args[0] ?? '', rows, at);
    case 'Array':
    case 'Map': {
      at.pos += 8 * rows;
      const total = rows > 0 ? Number(at.buf.readBigUInt64LE(at.pos - 8)) : 0;
      const elements = name === 'Map' ? args : [args[0] ?? ''];
      for (const element of elements) skipColumn(element, total, at);
      return;
    }
    case 'Tuple':
      for (const part of args) skipColumn(elementType(part), rows, at);
      return;
    default:
      throw unsupported(type);
  }
}

/** Re-frames the engine's revision-0 Native output for a client at `revision` (0 = unchanged). */
export function nativeAtRevision(native: Buffer, revision: number): Buffer {
  if (revision <= 0) return native;
  const at = new Cursor(native);
  const out: Buffer[] = [];
  const marker = Buffer.from([0]);
  while (at.pos < native.length) {
    out.push(BLOCK_INFO);
    let from = at.pos;
    const columns = at.varint();
    const rows = at.varint();
    for (let c = 0; c < columns; c++) {
      at.string();
      const type = at.string();
      if (revision >= WITH_CUSTOM_SERIALIZATION) {
        out.push(native.subarray(from, at.pos), marker);
        from = at.pos;
      }
      skipColumn(type, rows, at);
    }
    out.push(native.subarray(from, at.pos));
  }
  return Buffer.concat(out);
}
