// The deterministic stream of raw deliveries for a run: same options (seed and start time included),
// same bytes in the same order. Pacing, producing and counting acknowledgements happen elsewhere.
import { BAD_CLASSES, encodeBadEvent } from './bad-events.ts';
import type { BadClass } from './bad-events.ts';
import { EventEncoder } from './event-encoder.ts';
import type { RequestFacts } from './event-encoder.ts';
import type { Endpoint, Fleet, FleetService } from './fleet.ts';
import { NO_EFFECT, incidentEffect, placeIncidents } from './incidents.ts';
import type { Incident, IncidentEffect } from './incidents.ts';
import type { GeneratorOptions } from './options.ts';
import { totalBad } from './options.ts';
import { Random, WeightedPicker } from './prng.ts';

export type Timing = 'on_time' | 'out_of_order' | 'late';

export interface ValidEvent extends RequestFacts {
  /** The event's number in the run. */
  index: number;
  timing: Timing;
  /** True when a second delivery of this event is scheduled. */
  duplicated: boolean;
  value: Buffer;
}

/** One record to produce. `index` is the event's number in the run (its key is `<runTag>-<index>`). */
export type Delivery =
  | { kind: 'valid'; index: number; key: string; value: Buffer; event: ValidEvent; copy: 0 | 1 }
  | { kind: 'bad'; index: number; key: string; value: Buffer; badClass: BadClass };

const ERROR_5XX = [500, 502, 503, 504];
const ERROR_5XX_PICKER = new WeightedPicker([5, 3, 3, 1]);
const ERROR_4XX = [400, 401, 403, 404, 409, 422, 429];
const ERROR_4XX_PICKER = new WeightedPicker([3, 2, 1, 6, 1, 1, 1]);
const LATENCY_CAP_MS = 60_000;
const JITTER_MS = 20;
const EMPTY = Buffer.alloc(0);
/** Share of requests served from the customer's own account region. */
const HOME_REGION_SHARE = 0.85;
/** Share of a GET endpoint's successful requests answered 304 Not Modified (a conditional request). */
const NOT_MODIFIED_SHARE = 0.03;
const NOT_MODIFIED = 304;
/** Draws for another service at most this often when a traffic drop turns a request away. */
const MAX_REDRAWS = 64;

export class EventGenerator {
  readonly incidents: Incident[];
  readonly runTag: string;
  private readonly random: Random;
  private readonly encoder: EventEncoder;
  private readonly badShare: number;
  private readonly badPicker: WeightedPicker | undefined;
  private readonly badClasses: BadClass[];
  private readonly duplicateDelayMax: number;
  /** Event-time ms per wall-clock second of events: (index * this) / rate is where event `index` lies. */
  private readonly eventMsPerSecond: number;
  private readonly pending = new Map<number, ValidEvent[]>();
  private readonly ready: ValidEvent[] = [];
  private index = 0;

  constructor(
    readonly fleet: Fleet,
    readonly options: GeneratorOptions,
  ) {
    this.random = new Random(options.seed, 2);
    this.encoder = new EventEncoder(fleet);
    this.runTag = runTag(options.seed, options.startMs);
    this.badClasses = BAD_CLASSES.filter((c) => (options.bad[c] ?? 0) > 0);
    this.badShare = totalBad(options.bad);
    this.badPicker =
      this.badClasses.length > 0
        ? new WeightedPicker(this.badClasses.map((c) => options.bad[c] ?? 0))
        : undefined;
    this.duplicateDelayMax = Math.max(1, Math.round(options.rate / 2)); // about half a second later
    this.incidents = placeIncidents(options.incidents, fleet, options.startMs);
    this.eventMsPerSecond = 1000 * options.timeScale;
  }

  /** Original events emitted so far (duplicate deliveries not included). */
  get emitted(): number {
    return this.index;
  }

  /** The event time the stream has reached: where event `index` is planned. */
  streamTimeMs(index = this.index): number {
    return this.options.startMs + Math.floor((index * this.eventMsPerSecond) / this.options.rate);
  }

  /** The next delivery, or undefined when every event and every duplicate has been emitted. */
  next(): Delivery | undefined {
    const duplicate = this.ready.pop();
    if (duplicate !== undefined) {
      return {
        kind: 'valid',
        index: duplicate.index,
        key: duplicate.eventId,
        value: duplicate.value,
        event: duplicate,
        copy: 1,
      };
    }
    if (this.index >= this.options.count) {
      if (this.pending.size === 0) return undefined;
      const due = Math.min(...this.pending.keys());
      this.ready.push(...(this.pending.get(due) ?? []).reverse());
      this.pending.delete(due);
      return this.next();
    }
    const due = this.pending.get(this.index);
    if (due !== undefined) {
      this.pending.delete(this.index);
      this.ready.push(...due.reverse());
      return this.next();
    }
    return this.original(this.index++);
  }

  private original(i: number): Delivery {
    const random = this.random;
    const eventId = `${this.runTag}-${i}`;
    let ts = this.streamTimeMs(i) + random.int(0, JITTER_MS);
    if (this.badPicker !== undefined && random.chance(this.badShare)) {
      const badClass = this.badClasses[this.badPicker.pick(random)] ?? 'malformed_json';
      const value = encodeBadEvent(badClass, this.drawFacts(i, eventId, ts, 'on_time'), this.encoder, random);
      return { kind: 'bad', index: i, key: eventId, value, badClass };
    }
    let timing: Timing = 'on_time';
    const u = random.next();
    if (u < this.options.late) {
      timing = 'late';
      ts -= random.int(120_000, 600_000);
    } else if (u < this.options.late + this.options.outOfOrder) {
      timing = 'out_of_order';
      ts -= random.int(1000, 5000);
    }
    const event = this.drawFacts(i, eventId, ts, timing);
    const iso = random.chance(this.options.isoTimestamps);
    const text = random.chance(this.options.noise)
      ? this.encoder.encodeNoisy(event, iso, random)
      : this.encoder.encode(event, iso);
    event.value = Buffer.from(text);
    event.duplicated = random.chance(this.options.duplicates);
    if (event.duplicated) {
      const at = i + random.int(1, this.duplicateDelayMax);
      const list = this.pending.get(at);
      if (list === undefined) this.pending.set(at, [event]);
      else list.push(event);
    }
    return { kind: 'valid', index: i, key: eventId, value: event.value, event, copy: 0 };
  }

  /** The request's values; `value` and `duplicated` are filled in by the caller (one object shape for all). */
  private drawFacts(index: number, eventId: string, ts: number, timing: Timing): ValidEvent {
    const { fleet, random } = this;
    const { service, effect } = this.drawService(ts);
    const endpoint = service.endpoints[service.endpointPicker.pick(random)] ?? service.endpoints[0];
    if (endpoint === undefined) throw new Error(`service ${service.name} has no endpoints`);
    const customer = fleet.customerPicker.pick(random);
    const home = fleet.customers[customer]?.accountRegion ?? 0;
    const region = random.chance(HOME_REGION_SHARE) ? home : fleet.regionPicker.pick(random);
    const status = this.drawStatus(endpoint, effect);

    let latency = random.lognormal(endpoint.latencyMedianMs, endpoint.latencySigma);
    if (random.chance(endpoint.tailProbability)) latency *= random.pareto(1.5);
    latency *= effect.latencyX;
    // Quarter milliseconds: exactly representable, so sums are exact in any order (truth vs ClickHouse).
    const latencyMs = Math.max(0.25, Math.round(Math.min(latency, LATENCY_CAP_MS) * 4) / 4);

    let bytesOut = 0;
    if (status >= 400) bytesOut = random.int(60, 400);
    else if (status !== NOT_MODIFIED && endpoint.bytesMedian > 0)
      bytesOut = Math.round(random.lognormal(endpoint.bytesMedian, 0.5));
    return {
      index,
      eventId,
      ts,
      service: service.index,
      endpoint: endpoint.index,
      region,
      customer,
      status,
      latencyMs,
      bytesOut,
      timing,
      duplicated: false,
      value: EMPTY,
    };
  }

  /**
   * The service by popularity, and what its incidents at `ts` do. A traffic drop keeps a request for its
   * service only with the drop's share and draws the others again: the service's rate falls to that share
   * of its usual one, the run's total rate stays as asked.
   */
  private drawService(ts: number): { service: FleetService; effect: IncidentEffect } {
    const { fleet, random, incidents } = this;
    for (let draws = 1; ; draws++) {
      const service = fleet.services[fleet.servicePicker.pick(random)] ?? fleet.services[0];
      if (service === undefined) throw new Error('the fleet has no services');
      const effect = incidents.length === 0 ? NO_EFFECT : incidentEffect(incidents, service.index, ts);
      if (effect.trafficShare >= 1 || draws >= MAX_REDRAWS || random.chance(effect.trafficShare))
        return { service, effect };
    }
  }

  private drawStatus(endpoint: Endpoint, effect: IncidentEffect): number {
    const random = this.random;
    const u = random.next();
    if (effect.errorRate > 0 && random.chance(effect.errorRate))
      return ERROR_5XX[ERROR_5XX_PICKER.pick(random)] ?? 500;
    if (u < endpoint.fraction5xx) return ERROR_5XX[ERROR_5XX_PICKER.pick(random)] ?? 500;
    const to4xx = endpoint.fraction5xx + endpoint.fraction4xx;
    if (u < to4xx) return ERROR_4XX[ERROR_4XX_PICKER.pick(random)] ?? 400;
    if (endpoint.method === 'GET' && u < to4xx + NOT_MODIFIED_SHARE) return NOT_MODIFIED;
    return endpoint.okStatus;
  }
}

/** 12 hex digits from (seed, start): event ids differ between runs unless both are the same. */
export function runTag(seed: number, startMs: number): string {
  const random = new Random(seed, (Math.floor(startMs / 0x100000000) ^ startMs) | 0);
  return (
    random.nextUint32().toString(16).padStart(8, '0') + random.nextUint32().toString(16).padStart(8, '0')
  ).slice(0, 12);
}
