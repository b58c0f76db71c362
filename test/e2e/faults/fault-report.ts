// The fault suite's verdicts: each case appends one JSON line to the report file the suite's global
// setup provides; the teardown prints them as one table and the closing `N passed, N failed` line.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { textTable } from '../../../runtime/observability/terminal.ts';
import type { ReconcileCheck } from '../../../loadgen/index.ts';
import type { CopyExit } from './supervised-copy.ts';

export interface FaultOutcome {
  fault: string;
  /** Raw deliveries acknowledged by the broker: what ingest had to account for. */
  events: number;
  /** Valid events absent from requests.valid / from ClickHouse. */
  missing: { kafka: number; clickhouse: number };
  /** Extra copies of valid events in requests.valid / in ClickHouse. */
  duplicated: { kafka: number; clickhouse: number };
  deadLetters: { expected: number; kafka: number; clickhouse: number };
  failedChecks: ReconcileCheck[];
  /** Every reconciliation check of both reconcilers holds. */
  exact: boolean;
  exits: Array<CopyExit & { copy: string }>;
  stopCodes: Array<number | null>;
  settleProblem: string | undefined;
  workDir: string;
}

/** `exact`: the pipeline must reconcile; `must-fail`: a negative control, whose reconciliation must not. */
export type Expectation = 'exact' | 'must-fail';

export interface FaultVerdict {
  outcome: FaultOutcome;
  expectation: Expectation;
  /** What else the case requires and did not get (an exit where none is allowed, a missing log line). */
  problems: string[];
  passed: boolean;
  result: string;
}

export function judge(
  outcome: FaultOutcome,
  expectation: Expectation,
  problems: string[] = [],
): FaultVerdict {
  if (expectation === 'must-fail') {
    const caught = !outcome.exact;
    return {
      outcome,
      expectation,
      problems,
      passed: caught && problems.length === 0,
      result: caught ? 'expected failure (caught)' : 'FAILED: the control reconciled',
    };
  }
  const all = outcome.settleProblem === undefined ? problems : [...problems, outcome.settleProblem];
  const passed = outcome.exact && all.length === 0;
  return { outcome, expectation, problems: all, passed, result: passed ? 'exact' : 'FAILED' };
}

export function recordVerdict(reportFile: string, verdict: FaultVerdict): void {
  appendFileSync(reportFile, `${JSON.stringify(verdict)}\n`);
}

export function readVerdicts(reportFile: string): FaultVerdict[] {
  if (!existsSync(reportFile)) return [];
  return readFileSync(reportFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as FaultVerdict);
}

const pair = (kafka: number, clickhouse: number): string => `${kafka} / ${clickhouse}`;

/** The table and, for each failed case, what failed and where its logs are. */
export function faultReport(verdicts: readonly FaultVerdict[]): string {
  const table = textTable({
    head: [
      'fault',
      'events',
      'missing (kafka / ch)',
      'duplicated (kafka / ch)',
      'dead letters expected / kafka / ch',
      'result',
    ],
  });
  for (const { outcome: o, result } of verdicts) {
    const dlq = `${o.deadLetters.expected} / ${o.deadLetters.kafka} / ${o.deadLetters.clickhouse}`;
    table.push([
      o.fault,
      o.events,
      pair(o.missing.kafka, o.missing.clickhouse),
      pair(o.duplicated.kafka, o.duplicated.clickhouse),
      dlq,
      result,
    ]);
  }
  const notes = verdicts
    .filter((v) => !v.passed)
    .map((v) => {
      const checks = v.outcome.failedChecks.map((c) => `${c.check}: expected ${c.expected}, got ${c.actual}`);
      const lines = [...v.problems, ...(v.expectation === 'exact' ? checks : [])];
      return `- ${v.outcome.fault} (logs in ${v.outcome.workDir}):\n${lines.map((l) => `    ${l}`).join('\n')}`;
    });
  const passed = verdicts.filter((v) => v.passed).length;
  return [table.toString(), ...notes, `${passed} passed, ${verdicts.length - passed} failed`].join('\n');
}
