import { describe, expect, it } from 'vitest';
import { validTimeOf } from './table-options.ts';

describe('validTimeOf', () => {
  it("takes the record's timestamp, or the declared field when it holds epoch ms", () => {
    const value = { plan: 'pro', updated_at: 1_767_225_600_000 };
    expect(validTimeOf({ from: 'record_timestamp' }, value, 42)).toBe(42);
    expect(validTimeOf({ from: 'field', field: 'updated_at' }, value, 42)).toBe(1_767_225_600_000);
  });

  it('gives no time when the declared field is missing or not a number', () => {
    expect(validTimeOf({ from: 'field', field: 'valid_from' }, { plan: 'pro' }, 42)).toBeUndefined();
    expect(validTimeOf({ from: 'field', field: 'plan' }, { plan: 'pro' }, 42)).toBeUndefined();
  });
});
