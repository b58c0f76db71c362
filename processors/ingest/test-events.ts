// Raw request events for ingest's tests, built field by field from raw JSON text, so a test can put any
// text (escapes, 1e999, NaN, nested objects) in any field or drop it.

export const NOW = Date.UTC(2026, 2, 1, 12, 0, 0); // 2026-03-01T12:00:00Z

/** Each field's raw JSON text: a valid event one second before NOW. */
export const BASE_FIELDS: Readonly<Record<string, string>> = {
  event_id: '"Evt-0001"',
  ts: String(NOW - 1000),
  service: '"checkout"',
  endpoint: '"/api/orders/{id}"',
  method: '"GET"',
  status: '200',
  latency_ms: '12.5',
  bytes_out: '1834',
  customer_id: '"cust-42"',
  region: '"eu-west-1"',
};

/** The event's JSON text with some fields replaced (undefined drops the field), plus extra raw members. */
export function rawEventJson(overrides: Record<string, string | undefined> = {}, ...extra: string[]): string {
  const members = Object.entries({ ...BASE_FIELDS, ...overrides })
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `"${key}":${value}`);
  return `{${[...members, ...extra].join(',')}}`;
}

export function rawEvent(overrides: Record<string, string | undefined> = {}, ...extra: string[]): Buffer {
  return Buffer.from(rawEventJson(overrides, ...extra));
}
