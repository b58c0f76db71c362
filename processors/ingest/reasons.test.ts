import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../runtime/errors.ts';
import {
  DEAD_LETTER_REASONS,
  MAX_DETAIL_VALUE_CHARS,
  describeValue,
  isDeadLetterReason,
  reject,
  safeText,
  showValue,
} from './reasons.ts';

describe('dead-letter reasons', () => {
  it('are the closed set the dead-letter topic and dashboards key on', () => {
    expect(DEAD_LETTER_REASONS).toEqual([
      'malformed_json',
      'not_an_object',
      'missing_field',
      'wrong_type',
      'out_of_range',
      'timestamp_out_of_bounds',
      'oversized',
      'invalid_encoding',
      'duplicate_key',
    ]);
    expect(isDeadLetterReason('oversized')).toBe(true);
    expect(isDeadLetterReason('unknown')).toBe(false);
  });

  it('reject throws a ValidationError carrying reason and detail', () => {
    const error: unknown = (() => {
      try {
        reject('out_of_range', 'status 700 is outside 100–599');
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      reason: 'out_of_range',
      detail: 'status 700 is outside 100–599',
      retryable: false,
    });
  });
});

describe('showValue', () => {
  it('quotes strings and writes numbers as JavaScript does', () => {
    expect(showValue('200')).toBe('"200"');
    expect(showValue(Infinity)).toBe('Infinity');
    expect(showValue({ a: [1] })).toBe('{"a":[1]}');
  });

  it('cuts long values to ~100 characters, marking the cut', () => {
    expect(showValue('x'.repeat(500))).toBe(`"${'x'.repeat(MAX_DETAIL_VALUE_CHARS)}"…`);
    expect(showValue({ a: 'y'.repeat(500) })).toHaveLength(MAX_DETAIL_VALUE_CHARS + 1);
  });

  it('never splits a surrogate pair and escapes NUL and lone surrogates', () => {
    const shown = showValue(`${'x'.repeat(MAX_DETAIL_VALUE_CHARS - 1)}😀`);
    expect(shown).toBe(`"${'x'.repeat(MAX_DETAIL_VALUE_CHARS - 1)}"…`);
    expect(showValue('a\u0000b\ud800')).toBe('"a\\u0000b\\ud800"');
  });
});

describe('describeValue and safeText', () => {
  it('names the JSON type with the value', () => {
    expect(describeValue([1])).toBe('array [1]');
    expect(describeValue('x')).toBe('string "x"');
    expect(describeValue(null)).toBe('null');
  });

  it('escapes control characters and lone surrogates in free text, keeping pairs', () => {
    expect(safeText('bad \u0000 \ud800 😀 "q"')).toBe('bad \\u0000 \\ud800 😀 "q"');
    expect(safeText('z'.repeat(300))).toBe(`${'z'.repeat(MAX_DETAIL_VALUE_CHARS)}…`);
  });
});
