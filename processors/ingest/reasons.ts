// Why ingest refuses a raw event: the closed set of dead-letter reason codes, and the one way a refusal
// is raised (a ValidationError the runtime turns into a dead letter) with a short, safe detail.
import { ValidationError } from '../../runtime/errors.ts';

/** Every reason a raw request event can be dead-lettered with. Stable: dashboards and the reconciler key on them. */
export const DEAD_LETTER_REASONS = [
  /** Not parseable as JSON: empty, whitespace, truncated, `NaN`, a raw NUL byte… */
  'malformed_json',
  /** Valid JSON whose top level is not an object (array, string, number, boolean, null). */
  'not_an_object',
  /** A required field is absent or null. */
  'missing_field',
  /** A field has the wrong JSON type (a number sent as a string, an object where a scalar belongs…). */
  'wrong_type',
  /** A field has the right type but an impossible value (status 700, negative latency, empty service…). */
  'out_of_range',
  /** `ts` is further in the past or the future than the limits allow. */
  'timestamp_out_of_bounds',
  /** The raw event is larger than `maxEventBytes`. */
  'oversized',
  /** The bytes are not UTF-8, or a string holds a lone surrogate or a NUL character. */
  'invalid_encoding',
  /** The top-level object names the same key twice. */
  'duplicate_key',
] as const;

export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

const reasonSet: ReadonlySet<string> = new Set(DEAD_LETTER_REASONS);

export function isDeadLetterReason(value: string): value is DeadLetterReason {
  return reasonSet.has(value);
}

/** Refuses the event: throws the ValidationError the runtime dead-letters. */
export function reject(reason: DeadLetterReason, detail: string): never {
  throw new ValidationError(reason, detail);
}

/** Longest excerpt of a value quoted in a detail, in UTF-16 code units. */
export const MAX_DETAIL_VALUE_CHARS = 100;

/**
 * A value as a detail quotes it: JSON-ish, cut to ~100 characters, always well-formed text (lone
 * surrogates and control characters come out escaped), so a detail is safe to store anywhere.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'number') return String(value); // Infinity and NaN stay readable
  if (typeof value === 'string') {
    const cut = truncate(value);
    return JSON.stringify(cut) + (cut.length < value.length ? '…' : '');
  }
  const json = JSON.stringify(value) ?? String(value);
  const cut = truncate(json);
  return cut.length < json.length ? `${cut}…` : json;
}

/** A parsed JSON value with its type, as a detail names it: `array [1,2]`, `string "200"`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  return `${Array.isArray(value) ? 'array' : typeof value} ${showValue(value)}`;
}

// Control characters and (under the u flag) lone surrogates only: a well-formed pair is one code point.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_CHARS = /[\u0000-\u001f\u007f]|[\ud800-\udfff]/gu;

/** Free text (e.g. a parser's message) cut to ~100 characters, control characters and lone surrogates escaped. */
export function safeText(text: string): string {
  const cut = truncate(text);
  const escaped = cut.replace(
    UNSAFE_CHARS,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return cut.length < text.length ? `${escaped}…` : escaped;
}

function truncate(text: string): string {
  if (text.length <= MAX_DETAIL_VALUE_CHARS) return text;
  let end = MAX_DETAIL_VALUE_CHARS;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // never split a surrogate pair
  return text.slice(0, end);
}
