// Progress on stderr while the generator runs (a live line on a terminal, a plain line every few
// seconds otherwise), and the summary table at the end.
import { textTable } from '../runtime/observability/terminal.ts';
import type { DeliveryCounts } from './truth.ts';

export interface LoadgenProgress {
  elapsedMs: number;
  /** Original events handed to the producer. */
  events: number;
  /** Records handed to the producer (events + duplicate deliveries). */
  produced: number;
  acknowledged: number;
  failed: number;
}

export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const formatCount = (n: number): string => number.format(n);

export class ProgressReporter {
  private timer: NodeJS.Timeout | undefined;
  private last: LoadgenProgress | undefined;
  private readonly live: boolean;
  private readonly intervalMs: number;

  constructor(
    private readonly askedRate: number,
    private readonly snapshot: () => LoadgenProgress,
    private readonly out: ProgressOutput = process.stderr,
    intervalMs?: number,
  ) {
    this.live = out.isTTY === true;
    this.intervalMs = intervalMs ?? (this.live ? 500 : 5000);
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.live) this.out.write('\r\x1b[2K');
  }

  private tick(): void {
    const now = this.snapshot();
    const previous = this.last ?? { elapsedMs: 0, events: 0, produced: 0, acknowledged: 0, failed: 0 };
    this.last = now;
    const seconds = (now.elapsedMs - previous.elapsedMs) / 1000;
    const rate = seconds > 0 ? (now.events - previous.events) / seconds : 0;
    const line =
      `loadgen ${(now.elapsedMs / 1000).toFixed(1)}s  ${formatCount(rate)}/s of ${formatCount(this.askedRate)}/s asked  ` +
      `produced ${formatCount(now.produced)}  acked ${formatCount(now.acknowledged)}  errors ${formatCount(now.failed)}`;
    this.out.write(this.live ? `\r\x1b[2K${line}` : `${line}\n`);
  }
}

export interface RunSummary {
  runId: string;
  topic: string;
  askedRate: number;
  /** Events per second from the first record produced to the last (in-flight records are bounded). */
  achievedRate: number;
  /** From the first record produced to the last acknowledgement. */
  elapsedMs: number;
  events: number;
  produced: DeliveryCounts;
  acknowledged: DeliveryCounts;
  failed: DeliveryCounts;
  interrupted: boolean;
}

/** The end-of-run tables and plain statements; `color` for a terminal. */
export function summaryTable(summary: RunSummary, color = false): string {
  const table = textTable({ head: ['', 'deliveries', 'valid', 'bad', 'duplicates'] }, color);
  for (const [label, counts] of [
    ['produced', summary.produced],
    ['acknowledged', summary.acknowledged],
    ['failed', summary.failed],
  ] as const) {
    table.push([label, ...[counts.deliveries, counts.valid, counts.bad, counts.duplicates].map(formatCount)]);
  }
  const rates = textTable({}, color);
  rates.push(
    { topic: summary.topic },
    { 'asked rate': `${formatCount(summary.askedRate)} events/s` },
    { 'achieved rate': `${formatCount(summary.achievedRate)} events/s` },
    { events: formatCount(summary.events) },
    { elapsed: `${(summary.elapsedMs / 1000).toFixed(1)} s` },
  );
  const lines = [rates.toString(), table.toString()];
  const shortfall = shortfallStatement(summary.askedRate, summary.achievedRate);
  if (shortfall !== undefined) lines.push(shortfall);
  if (summary.interrupted) lines.push('interrupted: the truth covers what was produced before the stop');
  if (summary.failed.deliveries > 0) {
    lines.push(`${formatCount(summary.failed.deliveries)} deliveries failed; the truth leaves them out`);
  }
  return lines.join('\n');
}

/** A plain sentence when the achieved rate fell more than 5% short of the asked one. */
export function shortfallStatement(askedRate: number, achievedRate: number): string | undefined {
  if (achievedRate >= askedRate * 0.95) return undefined;
  return `this machine could not keep ${formatCount(askedRate)} events/s: achieved ${formatCount(achievedRate)}/s`;
}
