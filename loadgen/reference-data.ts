// Reference records for ref.services and ref.customers, typed by the records generated from
// schemas/service.avsc and schemas/customer.avsc, from the same fleet model the events come from.
// Named *Record beside the fleet model's FleetService and FleetCustomer, which they are made from.
import type { Customer as CustomerRecord, Service as ServiceRecord } from '../runtime/contracts/index.ts';
import type { Fleet } from './fleet.ts';

export type { CustomerRecord, ServiceRecord };

export function serviceRecords(fleet: Fleet, updatedAt: number): ServiceRecord[] {
  return fleet.services.map((s) => ({
    service: s.name,
    team: s.team,
    tier: s.tier,
    latency_slo_ms: s.latencySloMs,
    availability_slo: s.availabilitySlo,
    updated_at: updatedAt,
  }));
}

export function customerRecords(fleet: Fleet, updatedAt: number): CustomerRecord[] {
  return fleet.customers.map((c) => ({
    customer_id: c.id,
    plan: c.plan,
    account_region: fleet.regions[c.accountRegion] ?? 'unknown',
    updated_at: updatedAt,
  }));
}
