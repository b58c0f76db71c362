// Reference data over a run's event time, decided by the run's options alone: every record is valid
// from an hour before the first event (so no event misses for want of history), then at known times a
// service's latency SLO changes, the busiest customer changes plan and the second busiest is deleted
// (a tombstone); the fleet's last service never gets a record. All of it is published before the run
// (future-valid versions wait in the versioned table), so what enrich answers does not depend on when
// it reads the topic: the truth can be exact.
import type { Fleet } from './fleet.ts';
import { eventSpanMs } from './options.ts';
import type { EventTimeShape, GeneratorOptions } from './options.ts';
import type { CustomerRecord, ServiceRecord } from './reference-data.ts';
import { customerRecords, serviceRecords } from './reference-data.ts';

export interface ReferenceChange {
  at_ms: number;
  table: 'services' | 'customers';
  key: string;
  change: 'latency_slo_ms' | 'plan' | 'deleted';
  from: string | number;
  to: string | number | null;
}

export interface ReferenceTimeline {
  /** `updated_at` of every first version, epoch ms. */
  valid_from_ms: number;
  /** Services with events and no reference record: their events miss the services table. */
  unpublished_services: string[];
  changes: ReferenceChange[];
}

export interface ReferenceRecord<V> {
  key: string;
  /** null: a tombstone, valid from its record timestamp. */
  value: V | null;
  /** The Kafka record timestamp, epoch ms. */
  timestamp: number;
}

const HOUR_MS = 3_600_000;
const PLANS = ['free', 'pro', 'enterprise'] as const;

export function referenceTimeline(
  fleet: Fleet,
  gen: Pick<GeneratorOptions, 'startMs'> & EventTimeShape,
): ReferenceTimeline {
  const spanMs = Math.max(1, Math.round(eventSpanMs(gen)));
  const at = (share: number): number => gen.startMs + Math.round(spanMs * share);
  const changes: ReferenceChange[] = [];
  const sloService = fleet.services[0];
  if (sloService !== undefined) {
    const to = Math.round(sloService.latencySloMs * 1.5);
    changes.push({
      at_ms: at(1 / 2),
      table: 'services',
      key: sloService.name,
      change: 'latency_slo_ms',
      from: sloService.latencySloMs,
      to,
    });
  }
  const [planCustomer, deletedCustomer] = fleet.customers;
  if (planCustomer !== undefined) {
    const to = PLANS[(PLANS.indexOf(planCustomer.plan) + 1) % PLANS.length] ?? 'pro';
    changes.push({
      at_ms: at(1 / 3),
      table: 'customers',
      key: planCustomer.id,
      change: 'plan',
      from: planCustomer.plan,
      to,
    });
  }
  if (deletedCustomer !== undefined) {
    changes.push({
      at_ms: at(2 / 3),
      table: 'customers',
      key: deletedCustomer.id,
      change: 'deleted',
      from: deletedCustomer.plan,
      to: null,
    });
  }
  const unpublished =
    fleet.services.length > 2 ? [fleet.services[fleet.services.length - 1]?.name ?? ''] : [];
  return { valid_from_ms: gen.startMs - HOUR_MS, unpublished_services: unpublished, changes };
}

/** The records that publish the timeline, in order: first versions, then each change. */
export function timelineRecords(
  fleet: Fleet,
  timeline: ReferenceTimeline,
): { services: ReferenceRecord<ServiceRecord>[]; customers: ReferenceRecord<CustomerRecord>[] } {
  const from = timeline.valid_from_ms;
  const skip = new Set(timeline.unpublished_services);
  const services = serviceRecords(fleet, from)
    .filter((s) => !skip.has(s.service))
    .map((value) => ({ key: value.service, value, timestamp: from }));
  const customers = customerRecords(fleet, from).map((value) => ({
    key: value.customer_id,
    value,
    timestamp: from,
  }));
  for (const change of timeline.changes) {
    const list: ReferenceRecord<ServiceRecord | CustomerRecord>[] =
      change.table === 'services' ? services : customers;
    const current = [...list].reverse().find((r) => r.key === change.key)?.value;
    if (change.change === 'deleted' || current === null || current === undefined) {
      list.push({ key: change.key, value: null, timestamp: change.at_ms });
      continue;
    }
    list.push({
      key: change.key,
      value: { ...current, [change.change]: change.to, updated_at: change.at_ms },
      timestamp: change.at_ms,
    });
  }
  return { services, customers };
}

/** The reference data as it stood at a time, answered the way a temporal join must answer it. */
export class ReferenceAtTime {
  private readonly services = new Map<string, ReferenceRecord<ServiceRecord>[]>();
  private readonly customers = new Map<string, ReferenceRecord<CustomerRecord>[]>();

  constructor(fleet: Fleet, timeline: ReferenceTimeline) {
    const records = timelineRecords(fleet, timeline);
    for (const r of records.services) this.services.set(r.key, [...(this.services.get(r.key) ?? []), r]);
    for (const r of records.customers) this.customers.set(r.key, [...(this.customers.get(r.key) ?? []), r]);
  }

  service(name: string, ts: number): ServiceRecord | undefined {
    return valueAt(this.services.get(name), ts);
  }

  customer(id: string, ts: number): CustomerRecord | undefined {
    return valueAt(this.customers.get(id), ts);
  }
}

function valueAt<V extends { updated_at: number }>(
  versions: ReferenceRecord<V>[] | undefined,
  ts: number,
): V | undefined {
  let found: V | undefined;
  for (const version of versions ?? []) {
    const validFrom = version.value === null ? version.timestamp : version.value.updated_at;
    if (validFrom <= ts) found = version.value ?? undefined;
  }
  return found;
}
