// The enriched side of the ground truth: valid events per (team, tier, plan, event-time minute), with
// team and tier from the service and plan from the customer as the reference timeline says they stood
// at the event's ts (null where the lookup must miss). What ClickHouse must hold from requests.enriched.
import type { Fleet } from './fleet.ts';
import { minuteStart } from './minute-stats.ts';
import { ReferenceAtTime } from './reference-timeline.ts';
import type { ReferenceTimeline } from './reference-timeline.ts';

export interface EnrichedCell {
  team: string | null;
  tier: number | null;
  plan: string | null;
  minute_start_ms: number;
  requests: number;
}

export class EnrichedCounts {
  private readonly reference: ReferenceAtTime;
  private readonly cells = new Map<string, EnrichedCell>();

  constructor(
    private readonly fleet: Fleet,
    readonly timeline: ReferenceTimeline,
  ) {
    this.reference = new ReferenceAtTime(fleet, timeline);
  }

  add(endpoint: number, customer: number, ts: number): void {
    const serviceIndex = this.fleet.endpoints[endpoint]?.service ?? -1;
    const service = this.reference.service(this.fleet.services[serviceIndex]?.name ?? '', ts);
    const plan = this.reference.customer(this.fleet.customers[customer]?.id ?? '', ts)?.plan ?? null;
    const team = service?.team ?? null;
    const tier = service?.tier ?? null;
    const minute = minuteStart(ts);
    const key = `${team}\u0000${tier}\u0000${plan}\u0000${minute}`;
    const cell = this.cells.get(key);
    if (cell === undefined) this.cells.set(key, { team, tier, plan, minute_start_ms: minute, requests: 1 });
    else cell.requests++;
  }

  rows(): EnrichedCell[] {
    return [...this.cells.values()].sort(
      (a, b) => a.minute_start_ms - b.minute_start_ms || cellKey(a).localeCompare(cellKey(b)),
    );
  }
}

export function cellKey(cell: Omit<EnrichedCell, 'requests'>): string {
  return `${cell.team ?? '∅'}|${cell.tier ?? '∅'}|${cell.plan ?? '∅'}|${cell.minute_start_ms}`;
}
