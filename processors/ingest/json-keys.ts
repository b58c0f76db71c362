// Duplicate keys in the top-level object of a JSON text. JSON.parse keeps the last of two equal keys
// without a word, so ingest rescans the text: a short scanner that skips over strings (escapes
// included) and tracks nesting, so only the top-level object's own keys count.

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const COLON = 0x3a; // :
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]

/**
 * The first key the top-level object of `json` names twice (decoded, so `"a"` and `"\u0061"` are the
 * same key), or undefined when every key is distinct.
 *
 * `json` must be text JSON.parse accepted whose top level is an object. When `distinctKeyCount` (the
 * parsed object's `Object.keys(…).length`) is given and the text has exactly that many top-level keys,
 * there is no duplicate and no key string is built: the common case costs one pass and no allocation.
 */
export function findDuplicateTopLevelKey(json: string, distinctKeyCount?: number): string | undefined {
  if (distinctKeyCount !== undefined && scanTopLevelKeys(json, undefined) === distinctKeyCount) {
    return undefined;
  }
  const keys: string[] = [];
  scanTopLevelKeys(json, keys);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) return key;
    seen.add(key);
  }
  return undefined;
}

/** Counts the top-level object's keys; when `keys` is given, also appends each decoded key to it. */
function scanTopLevelKeys(json: string, keys: string[] | undefined): number {
  let depth = 0;
  let count = 0;
  let lastStringStart = -1; // index of the opening quote of the last string seen at depth 1
  let lastStringEnd = -1; // index of its closing quote
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(json, i + 1);
      if (end === -1) break; // unterminated: not JSON.parse-accepted text
      if (depth === 1) {
        lastStringStart = i;
        lastStringEnd = end;
      }
      i = end;
    } else if (c === COLON && depth === 1) {
      // A colon at depth 1 always follows a top-level key.
      count++;
      if (keys !== undefined) keys.push(decodeKey(json, lastStringStart, lastStringEnd));
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
      if (depth === 0) break;
    }
  }
  return count;
}

/** Index of the quote closing the string whose content starts at `from`, or -1. */
function closingQuote(json: string, from: number): number {
  let search = from;
  for (;;) {
    const quote = json.indexOf('"', search);
    if (quote === -1) return -1;
    let backslashes = 0;
    while (quote - backslashes - 1 >= from && json.charCodeAt(quote - backslashes - 1) === BACKSLASH) {
      backslashes++;
    }
    if (backslashes % 2 === 0) return quote; // an even run of backslashes escapes itself, not the quote
    search = quote + 1;
  }
}

function decodeKey(json: string, openQuote: number, closeQuote: number): string {
  const literal = json.slice(openQuote, closeQuote + 1);
  // Only a key with an escape needs decoding; the literal is valid JSON because the whole text was.
  return literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1);
}
