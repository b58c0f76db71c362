// The alerts one Alertmanager took as FIRING and has not yet been sent the RESOLVED of: what the
// notifier re-posts every resend interval. Fed with edges in offset order, at least once: a FIRING seen
// again is still one alert, and a FIRING seen again after its RESOLVED (a replay, a duplicate) does not
// bring the episode back, since a FIRING posted after the RESOLVED would make Alertmanager fire again.
import type { AlertEvent } from '../../runtime/index.ts';

/** Where an edge was read from, `topic/partition`: alerts are dropped with the partitions they came from. */
export function sourceOf(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

interface Firing {
  event: AlertEvent;
  source: string;
}

export class FiringAlerts {
  private readonly firing = new Map<string, Firing>();
  /** Alert ids whose RESOLVED was seen, oldest first; bounded (an episode's edges are close in the topic). */
  private readonly resolvedIds = new Set<string>();

  constructor(private readonly resolvedLimit = 50_000) {}

  get size(): number {
    return this.firing.size;
  }

  has(alertId: string): boolean {
    return this.firing.has(alertId);
  }

  /** The alerts firing now, oldest FIRING first. */
  events(): AlertEvent[] {
    return [...this.firing.values()].map((f) => f.event);
  }

  /** Applies one edge: a FIRING makes the alert firing (unless already resolved), a RESOLVED ends it. */
  apply(event: AlertEvent, source: string): void {
    if (event.state === 'RESOLVED') this.resolve(event.alert_id);
    else if (!this.resolvedIds.has(event.alert_id)) this.firing.set(event.alert_id, { event, source });
  }

  resolve(alertId: string): void {
    this.firing.delete(alertId);
    this.resolvedIds.delete(alertId);
    this.resolvedIds.add(alertId);
    if (this.resolvedIds.size > this.resolvedLimit) {
      const oldest = this.resolvedIds.values().next();
      if (oldest.done !== true) this.resolvedIds.delete(oldest.value);
    }
  }

  /** Forgets the firing alerts read from partitions this copy no longer holds (another copy sends them). */
  retainSources(held: ReadonlySet<string>): void {
    for (const [alertId, { source }] of this.firing) if (!held.has(source)) this.firing.delete(alertId);
  }
}
