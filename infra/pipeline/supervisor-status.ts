// What the supervisor reports about its copies: each copy's state and last exit, and per member the
// readiness, throughput and lag observed from the copies' /readyz and /metrics.
import type { ExitKind } from './backoff.ts';
import type { CopyFigures } from './metrics-text.ts';
import type { ProcessExit } from './processor-process.ts';

export interface LastExit extends ProcessExit {
  kind: ExitKind;
  description: string;
  at: number;
}

export type CopyState = 'running' | 'waiting' | 'stopped';

export interface CopyStatus {
  member: string;
  index: number;
  state: CopyState;
  pid: number | undefined;
  port: number | undefined;
  restarts: number;
  lastExit: LastExit | undefined;
  /** When waiting: ms until the next start. */
  restartInMs: number | undefined;
  logFile: string;
}

export interface CopyObservation extends CopyStatus {
  ready: boolean;
  readyReason: string;
  figures: CopyFigures | undefined;
}

export interface MemberObservation {
  name: string;
  desired: number;
  /** Copies whose process is alive. */
  up: number;
  ready: number;
  restarts: number;
  /** Records consumed per second since the previous observe(). */
  eventsPerS: number;
  /** Records consumed and dead letters written since the supervisor started (all copies, all restarts). */
  consumed: number;
  deadLetters: number;
  /** Sum of the copies' lag gauges; undefined when no copy exports one. */
  lag: number | undefined;
  copies: CopyObservation[];
}

export interface CopyExit {
  copy: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when it did not stop within stopTimeoutMs and was SIGKILLed. */
  forced: boolean;
}
