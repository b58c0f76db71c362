// The supervisor's liveness probe: each running copy's /healthz, read on an interval. A copy that answers
// "not live" (its loop stuck: a commit that never returns, partitions with lag that deliver nothing)
// `failuresToRestart` times in a row is reported stuck, and the supervisor kills it so it restarts, as an
// orchestrator's liveness probe would. A copy that does not answer is left alone: it may still be starting,
// and one that died is seen by its exit.

export interface LivenessProbeOptions {
  /** Between two probes of every copy, in ms. Default 5000. */
  intervalMs: number;
  /** "Not live" answers in a row before a copy is restarted. Default 2. */
  failuresToRestart: number;
  /** Longest wait for one /healthz answer, in ms. Default 1000. */
  timeoutMs: number;
}

export const DEFAULT_LIVENESS_PROBE: LivenessProbeOptions = {
  intervalMs: 5000,
  failuresToRestart: 2,
  timeoutMs: 1000,
};

/** What one /healthz said; undefined when it did not answer. */
export type LivenessAnswer = { live: boolean; reason: string } | undefined;

export type LivenessProbe = (host: string, port: number, timeoutMs: number) => Promise<LivenessAnswer>;

/** Reads `http://host:port/healthz`: 200 is live, 503 not live, anything else no answer. */
export const probeHealthz: LivenessProbe = async (host, port, timeoutMs) => {
  try {
    const response = await fetch(`http://${host}:${port}/healthz`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    if (response.status !== 200 && response.status !== 503) return undefined;
    const parsed = JSON.parse(body) as { reason?: unknown };
    return { live: response.status === 200, reason: typeof parsed.reason === 'string' ? parsed.reason : '' };
  } catch {
    return undefined;
  }
};

export interface WatchedCopy {
  label: string;
  port: number | undefined;
  /** Which start of the copy: failures of an earlier process never count against a new one. */
  generation: number;
}

export class LivenessWatch {
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private readonly failures = new Map<string, { generation: number; count: number }>();

  constructor(
    private readonly options: LivenessProbeOptions & { host: string; probe: LivenessProbe },
    private readonly copies: () => WatchedCopy[],
    private readonly onStuck: (copy: WatchedCopy, reason: string) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.probeAll(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round over every copy with a port; a round still running when the next is due is not doubled. */
  async probeAll(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await Promise.all(this.copies().map((copy) => this.probeOne(copy)));
    } finally {
      this.probing = false;
    }
  }

  private async probeOne(copy: WatchedCopy): Promise<void> {
    if (copy.port === undefined) return;
    const answer = await this.options.probe(this.options.host, copy.port, this.options.timeoutMs);
    const previous = this.failures.get(copy.label);
    const count = previous?.generation === copy.generation ? previous.count : 0;
    if (answer === undefined) return;
    if (answer.live) {
      this.failures.set(copy.label, { generation: copy.generation, count: 0 });
      return;
    }
    this.failures.set(copy.label, { generation: copy.generation, count: count + 1 });
    if (count + 1 >= this.options.failuresToRestart) this.onStuck(copy, answer.reason);
  }
}
