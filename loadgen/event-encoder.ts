// Writes raw request events as JSON text. The common case concatenates strings precomputed per
// endpoint, customer and region (no object, no JSON.stringify); the rare noisy variants take a slower path.
import type { Fleet } from './fleet.ts';
import type { Random } from './prng.ts';

/** One valid request as the truth counts it: the values ingest ends up with after normalising. */
export interface RequestFacts {
  eventId: string;
  ts: number;
  /** Index into `Fleet.services`. */
  service: number;
  /** Index into `Fleet.endpoints`. */
  endpoint: number;
  /** Index into `Fleet.regions`. */
  region: number;
  /** Index into `Fleet.customers`. */
  customer: number;
  status: number;
  latencyMs: number;
  bytesOut: number;
}

export class EventEncoder {
  /** `,"service":"…","endpoint":"…","method":"…","status":` per endpoint. */
  private readonly endpointParts: string[];
  /** `,"customer_id":"…"` per customer. */
  private readonly customerParts: string[];
  /** `,"region":"…"}` per region. */
  private readonly regionParts: string[];

  constructor(private readonly fleet: Fleet) {
    this.endpointParts = fleet.endpoints.map((e) => {
      const service = fleet.services[e.service]?.name ?? '';
      return `,"service":${JSON.stringify(service)},"endpoint":${JSON.stringify(e.route)},"method":"${e.method}","status":`;
    });
    this.customerParts = fleet.customers.map((c) => `,"customer_id":${JSON.stringify(c.id)}`);
    this.regionParts = fleet.regions.map((r) => `,"region":${JSON.stringify(r)}}`);
  }

  /** The event as a service would send it, fields in the documented order. */
  encode(facts: RequestFacts, isoTimestamp: boolean): string {
    const ts = isoTimestamp ? `"${new Date(facts.ts).toISOString()}"` : String(facts.ts);
    return (
      `{"event_id":"${facts.eventId}","ts":${ts}` +
      (this.endpointParts[facts.endpoint] ?? '') +
      String(facts.status) +
      ',"latency_ms":' +
      String(facts.latencyMs) +
      ',"bytes_out":' +
      String(facts.bytesOut) +
      (this.customerParts[facts.customer] ?? '') +
      (this.regionParts[facts.region] ?? '')
    );
  }

  /**
   * The same event with harmless noise ingest normalises away: unknown extra fields, padded or
   * upper-cased identifiers, a lower-case method. The truth keeps the normalised values.
   */
  encodeNoisy(facts: RequestFacts, isoTimestamp: boolean, random: Random): string {
    const fields = this.fields(facts, isoTimestamp);
    const variant = random.int(0, 4);
    const quote = (s: string): string => JSON.stringify(s);
    const service = this.fleet.services[facts.service]?.name ?? '';
    const region = this.fleet.regions[facts.region] ?? '';
    const customer = this.fleet.customers[facts.customer]?.id ?? '';
    const method = this.fleet.endpoints[facts.endpoint]?.method ?? 'GET';
    if (variant === 0) {
      fields.push([
        'trace_id',
        quote(random.nextUint32().toString(16).padStart(8, '0') + facts.eventId.slice(-8)),
      ]);
      fields.push(['sdk', quote(random.pick(['go-http/1.4', 'java-okhttp/4.12', 'node-undici/6.2']))]);
    } else if (variant === 1) {
      setField(fields, 'service', quote(`  ${service} `));
      setField(fields, 'region', quote(` ${region}\t`));
    } else if (variant === 2) {
      setField(fields, 'service', quote(service.toUpperCase()));
      setField(fields, 'region', quote(region.toUpperCase()));
    } else if (variant === 3) {
      setField(fields, 'method', quote(method.toLowerCase()));
    } else {
      setField(fields, 'customer_id', quote(` ${customer.toUpperCase()}`));
    }
    return joinFields(fields);
  }

  /** The event as ordered (name, JSON text) pairs, for the slow paths (noise, bad events). */
  fields(facts: RequestFacts, isoTimestamp: boolean): Array<[string, string]> {
    const endpoint = this.fleet.endpoints[facts.endpoint];
    return [
      ['event_id', JSON.stringify(facts.eventId)],
      ['ts', isoTimestamp ? `"${new Date(facts.ts).toISOString()}"` : String(facts.ts)],
      ['service', JSON.stringify(this.fleet.services[facts.service]?.name ?? '')],
      ['endpoint', JSON.stringify(endpoint?.route ?? '')],
      ['method', JSON.stringify(endpoint?.method ?? 'GET')],
      ['status', String(facts.status)],
      ['latency_ms', String(facts.latencyMs)],
      ['bytes_out', String(facts.bytesOut)],
      ['customer_id', JSON.stringify(this.fleet.customers[facts.customer]?.id ?? '')],
      ['region', JSON.stringify(this.fleet.regions[facts.region] ?? '')],
    ];
  }
}

export function setField(fields: Array<[string, string]>, name: string, json: string): void {
  const field = fields.find(([key]) => key === name);
  if (field !== undefined) field[1] = json;
}

export function joinFields(fields: ReadonlyArray<[string, string]>): string {
  return `{${fields.map(([key, json]) => `"${key}":${json}`).join(',')}}`;
}
