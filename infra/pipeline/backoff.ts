// When the supervisor restarts a copy that exited: exponential backoff for crashes, reset once a copy has
// run long enough, the longest wait at once for exits a quick retry cannot fix. Pure: no timers, no clock.
import type { ProcessExit } from './processor-process.ts';

export interface BackoffPolicy {
  /** Wait before the first restart after a crash, in ms. Default 1000. */
  initialMs: number;
  /** Longest wait between restarts, in ms; also the wait after a bad-config or fenced exit. Default 30000. */
  maxMs: number;
  /** A copy that ran at least this long before exiting starts again from `initialMs`. Default 60000. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

/** Why a copy ended, from its exit code or signal (codes as in runtime/app/host/process-lifecycle.ts). */
export type ExitKind = 'clean' | 'failed' | 'bad-config' | 'fenced' | 'killed';

const EXIT_BAD_CONFIG = 2;
const EXIT_FENCED = 3;

export function classifyExit(exit: ProcessExit): ExitKind {
  if (exit.signal !== null) return 'killed';
  if (exit.code === 0) return 'clean';
  if (exit.code === EXIT_BAD_CONFIG) return 'bad-config';
  if (exit.code === EXIT_FENCED) return 'fenced';
  return 'failed';
}

/** One line for the status view and the log, e.g. "exit 2 (bad config)" or "killed by SIGKILL". */
export function describeExit(exit: ProcessExit): string {
  const kind = classifyExit(exit);
  if (kind === 'killed') return `killed by ${exit.signal ?? '?'}`;
  const label: Record<Exclude<ExitKind, 'killed'>, string> = {
    clean: 'clean exit',
    failed: 'failed',
    'bad-config': 'bad config: fix it, the copy is retried slowly',
    fenced: 'fenced: another copy uses its instance id',
  };
  return `exit ${exit.code ?? '?'} (${label[kind]})`;
}

export type RestartPlan =
  | { restart: false }
  | {
      restart: true;
      delayMs: number;
      /** Crashes in a row, this one included; carried into the next plan. */
      consecutiveFailures: number;
      kind: ExitKind;
    };

/**
 * What to do after a copy exited. `consecutiveFailures` is the previous plan's count (0 at first),
 * `ranForMs` how long the exited process had run. Nothing is restarted once a stop was requested.
 */
export function planRestart(
  policy: BackoffPolicy,
  consecutiveFailures: number,
  exit: ProcessExit,
  ranForMs: number,
  stopRequested: boolean,
): RestartPlan {
  if (stopRequested) return { restart: false };
  const kind = classifyExit(exit);
  const previous = ranForMs >= policy.resetAfterMs ? 0 : consecutiveFailures;
  // A bad config or a fencing copy will not go away in a second: wait the longest at once.
  if (kind === 'bad-config' || kind === 'fenced')
    return { restart: true, delayMs: policy.maxMs, consecutiveFailures: previous + 1, kind };
  const delayMs = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(previous, 30));
  return { restart: true, delayMs, consecutiveFailures: previous + 1, kind };
}
