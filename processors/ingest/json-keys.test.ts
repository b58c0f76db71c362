import { describe, expect, it } from 'vitest';
import { findDuplicateTopLevelKey } from './json-keys.ts';

/** Runs both paths: the counting fast path (given JSON.parse's key count) and the collecting one. */
function duplicate(json: string): string | undefined {
  const distinct = Object.keys(JSON.parse(json) as object).length;
  const collected = findDuplicateTopLevelKey(json);
  expect(findDuplicateTopLevelKey(json, distinct)).toBe(collected);
  return collected;
}

describe('findDuplicateTopLevelKey', () => {
  it.each([
    ['an empty object', '{}'],
    ['distinct keys', '{"a":1,"b":"x","c":null}'],
    ['whitespace everywhere', ' {\n "a" : 1 ,\t"b" :2 } '],
    ['duplicates only in nested objects', '{"a":{"x":1,"x":2},"b":[{"y":1,"y":2}]}'],
    ['a value equal to a key', '{"a":"b","b":"a"}'],
    ['keys that differ only in case', '{"status":1,"Status":2}'],
  ])('finds none with %s', (_name, json) => {
    expect(duplicate(json)).toBeUndefined();
  });

  it.each([
    ['the same key twice', '{"a":1,"b":2,"a":3}', 'a'],
    ['the first repeated key', '{"b":1,"a":2,"a":3,"b":4}', 'a'],
    ['a key after a nested object', '{"a":{"a":1,"b":{}},"a":2}', 'a'],
    ['a key after an array holding objects', '{"a":[{"a":1},[2]],"a":2}', 'a'],
    ['keys equal once decoded', '{"a":1,"\\u0061":2}', 'a'],
    ['structural characters inside strings', '{"a":"}:{\\"b\\":1,","b":"[","b":"]"}', 'b'],
    ['a key ending in an escaped backslash', '{"a\\\\":1,"a\\\\":2}', 'a\\'],
    ['an escaped quote inside a key', '{"a\\"b":1,"a\\"b":2}', 'a"b'],
    ['__proto__', '{"__proto__":1,"__proto__":2}', '__proto__'],
    ['non-ASCII keys', '{"café":1,"caf\\u00e9":2}', 'café'],
  ])('finds %s', (_name, json, key) => {
    expect(duplicate(json)).toBe(key);
  });
});
