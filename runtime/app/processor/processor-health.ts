// What /healthz and /readyz of a processor say.
import type { HealthStatus } from '../../observability/index.ts';
import type { ProcessorMetrics } from './processor-metrics.ts';
import type { InputConsumer } from '../../kafka/index.ts';
import type { StateManager } from '../../state/index.ts';
import type { TransactionLoop } from './transaction-loop.ts';
import type { StartupProgress } from '../host/startup-wait.ts';

/** Live while starting, then while the loop keeps completing turns (see LoopProgress). */
export function liveness(loop: TransactionLoop | undefined): HealthStatus {
  if (loop === undefined) return { ok: true, reason: 'starting' };
  return loop.progress.status();
}

export function readiness(
  consumer: InputConsumer,
  loop: TransactionLoop | undefined,
  state: StateManager | undefined,
  maxLag: number,
  metrics: ProcessorMetrics,
  startup?: StartupProgress,
): HealthStatus {
  const status = ((): HealthStatus => {
    if (loop === undefined) return { ok: false, reason: startup?.phase ?? 'starting' };
    if (state?.isRestoring === true) return { ok: false, reason: 'restoring state from changelogs' };
    if (!consumer.hasJoinedGroup) return { ok: false, reason: 'waiting for a partition assignment' };
    const worst = Math.max(0, ...consumer.lag().values());
    metrics.assignedPartitions.set(consumer.assignment.length);
    // A dedup horizon cut short by its id cap does not stop the copy, but /readyz says so.
    const shortfall = state?.horizonShortfall();
    const note = shortfall === undefined || shortfall === null ? '' : `; ${shortfall}`;
    if (worst > maxLag) return { ok: false, reason: `catching up: lag ${worst} > ${maxLag}${note}` };
    return { ok: true, reason: `assigned ${consumer.assignment.length} partition(s), lag ${worst}${note}` };
  })();
  metrics.ready.set(status.ok ? 1 : 0);
  return status;
}
