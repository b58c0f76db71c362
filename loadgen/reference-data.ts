// Reference records for ref.services and ref.customers, in the shape of schemas/service.avsc and
// schemas/customer.avsc, from the same fleet model the events come from.
import type { Fleet } from './fleet.ts';

export interface ServiceRecord {
  service: string;
  team: string;
  tier: number;
  latency_slo_ms: number;
  availability_slo: number;
  updated_at: number;
}

export interface CustomerRecord {
  customer_id: string;
  plan: string;
  account_region: string;
  updated_at: number;
}

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
