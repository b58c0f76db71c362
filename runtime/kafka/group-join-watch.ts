// Whether a group consumer is a settled member, from the `cgrp` section of librdkafka's statistics
// (STATISTICS.md). A copy that never gets its partitions back after a broker stall shows nothing in its
// own logs; what librdkafka is waiting for (a JoinGroup answer, the application's assign call, a
// coordinator) says which side holds the group up.

/** The fields of librdkafka's `cgrp` statistics this reads. */
export interface GroupStats {
  state?: string;
  join_state?: string;
  rebalance_reason?: string;
  rebalance_cnt?: number;
  assignment_size?: number;
}

export interface GroupJoinReport {
  /** `state/join_state`, e.g. `up/steady` or `up/wait-join`. */
  phase: string;
  /** The phase differs from the last one seen. */
  changed: boolean;
  /** Set when the member has been unsettled for warnAfterMs or more, once per warnAfterMs. */
  unsettledForMs?: number;
}

const SETTLED = 'up/steady';

export class GroupJoinWatch {
  private phase: string | undefined;
  private unsettledSince: number | undefined;
  private warnedAt = 0;

  constructor(private readonly warnAfterMs: number) {}

  observe(stats: GroupStats, now: number): GroupJoinReport {
    const phase = `${stats.state ?? 'unknown'}/${stats.join_state ?? 'unknown'}`;
    const changed = phase !== this.phase;
    this.phase = phase;
    if (phase === SETTLED) {
      this.unsettledSince = undefined;
      return { phase, changed };
    }
    this.unsettledSince ??= now;
    const unsettledForMs = now - this.unsettledSince;
    if (unsettledForMs < this.warnAfterMs || now - this.warnedAt < this.warnAfterMs)
      return { phase, changed };
    this.warnedAt = now;
    return { phase, changed, unsettledForMs };
  }
}
