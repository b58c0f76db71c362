import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../runtime/index.ts';
import { encoderFor, escapeBytes, required } from './tsv.ts';

function encode(type: string, value: unknown): string {
  const encoder = encoderFor(type);
  if (encoder === undefined) throw new Error(`no encoder for ${type}`);
  return required(encoder, type)(value, 'col');
}

describe('TabSeparated encoding checked against the column type', () => {
  it('writes times as UTC text ClickHouse cannot misread', () => {
    expect(encode("DateTime64(3, 'UTC')", 1_700_000_000_123)).toBe('2023-11-14 22:13:20.123');
  });

  it('rejects a value the column would silently wrap, rather than storing a wrong one', () => {
    expect(() => encode('UInt16', 70_000)).toThrow(ValidationError);
    expect(() => encode('LowCardinality(String)', 5)).toThrow(/wrong_type|cannot hold/);
    expect(() => encode('String', undefined)).toThrow(/no value/);
  });

  it('escapes text and keeps bytes exact', () => {
    expect(encode('String', 'a\tb\nc\\')).toBe('a\\tb\\nc\\\\');
    expect(escapeBytes(Buffer.from([0x61, 0xff, 0x00]))).toBe('a\\xff\\x00');
    expect(encode('Nullable(String)', null)).toBe('\\N');
  });

  it('writes arrays of numbers, each element checked, and refuses other element types', () => {
    expect(encode('Array(Int32)', [-346, 0, 12])).toBe('[-346,0,12]');
    expect(encode('Array(UInt64)', [])).toBe('[]');
    expect(encode('Array(Float64)', [1.5, Number.NaN])).toBe('[1.5,nan]');
    expect(() => encode('Array(UInt64)', [1, -2])).toThrow(/col\[1\].*outside UInt64/);
    expect(() => encode('Array(Int32)', [1, null])).toThrow(/no value/);
    expect(() => encode('Array(Int32)', 'nope')).toThrow(ValidationError);
    expect(encoderFor('Array(String)')).toBeUndefined();
  });

  it('writes an enum by name and a string map in quoted form, refusing what they cannot hold', () => {
    const state = "Enum8('FIRING' = 1, 'RESOLVED' = 2)";
    expect(encode(state, 'RESOLVED')).toBe('RESOLVED');
    expect(() => encode(state, 'PENDING')).toThrow(/is not in Enum8/);
    expect(() => encode(state, 1)).toThrow(ValidationError);
    const labels = 'Map(LowCardinality(String), String)';
    expect(encode(labels, { a: "it's", 'b\tc': 'x\\y' })).toBe("{'a':'it\\'s','b\\tc':'x\\\\y'}");
    expect(encode(labels, {})).toBe('{}');
    expect(() => encode(labels, ['a'])).toThrow(ValidationError);
    expect(() => encode(labels, { a: 1 })).toThrow(/col\[a\]/);
    expect(encoderFor('Map(String, UInt64)')).toBeUndefined();
  });
});
