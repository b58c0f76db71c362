// Runs one fault case end to end and records its verdict: copies up, load with a fault applied, settle,
// stop, reconcile, judge.
import { createPipelineTopics } from '../sink-support.ts';
import { FaultCase, PARTITIONS } from './fault-case.ts';
import type { LoadSpec } from './fault-case.ts';
import { judge, recordVerdict } from './fault-report.ts';
import type { Expectation, FaultOutcome, FaultVerdict } from './fault-report.ts';
import { waitForReady } from './supervised-copy.ts';
import type { CaseStack, CopySpec } from './supervised-copy.ts';

export interface CaseOptions {
  fault: string;
  stack: CaseStack;
  reportFile: string;
  copies: CopySpec[];
  load: LoadSpec;
  expectation?: Expectation;
  /**
   * Faults applied from outside once every copy is processing; awaited before the case settles. `loaded`
   * resolves when the load generator has its truth (wait for it before faults that could make a
   * delivery's outcome unknown, such as killing the broker).
   */
  during?: (run: FaultCase, loaded: Promise<unknown>) => Promise<void>;
  /** What else the case requires of the run; each string returned is a problem. */
  require?: (run: FaultCase, outcome: FaultOutcome) => string[] | Promise<string[]>;
  settleTimeoutMs?: number;
}

export async function runFaultCase(options: CaseOptions): Promise<FaultVerdict> {
  const run = new FaultCase(options.fault, options.stack);
  // The topics exist before the copies start, or they wait for the load generator to create them.
  await createPipelineTopics(options.stack.brokers, run.prefix, PARTITIONS);
  for (const spec of options.copies) run.start(spec);
  // Traffic starts once every copy has its partitions, so faults at the n-th batch land mid-stream.
  for (const copy of run.copies) await waitForReady(copy, 90_000);
  const loading = run.load(options.load);
  await options.during?.(run, loading);
  const truth = await loading;
  await run.settle({ timeoutMs: options.settleTimeoutMs ?? 120_000 });
  const outcome = await run.finish(truth);
  const problems = (await options.require?.(run, outcome)) ?? [];
  const verdict = judge(outcome, options.expectation ?? 'exact', problems);
  recordVerdict(options.reportFile, verdict);
  return verdict;
}

/** The copy running `spec.fault` must have been SIGKILLed by it before the run settled, or it proved nothing. */
export function faultFired(run: FaultCase): string[] {
  return run.copies
    .filter((c) => c.spec.fault !== undefined && /:kill/.test(c.spec.fault))
    .filter((c) => c.exits[0]?.signal !== 'SIGKILL' || c.exits[0].atMs > run.settledAtMs)
    .map(
      (c) =>
        `${c.spec.processor}-${c.spec.instanceId}: ${c.spec.fault ?? ''} did not fire while records flowed`,
    );
}

/** Every exit but the injected SIGKILLs is a problem: processes must ride the fault out. */
export function noUnplannedExits(run: FaultCase, outcome: FaultOutcome): string[] {
  const planned = new Set(run.copies.filter((c) => c.spec.fault !== undefined).map((c) => c.exits[0]));
  const unplanned = run.copies.flatMap((c) =>
    c.exits
      .filter((e) => !planned.has(e))
      .map(
        (e) =>
          `${c.spec.processor}-${c.spec.instanceId} exited (${e.signal ?? `code ${e.code}`}) at ${Math.round(e.atMs / 1000)} s`,
      ),
  );
  const unclean = outcome.stopCodes.some((code) => code !== 0)
    ? [`stop exit codes ${outcome.stopCodes.join(', ')}`]
    : [];
  return [...unplanned, ...unclean];
}

/** A one-paragraph account of a verdict, for an assertion message. */
export function describeVerdict(verdict: FaultVerdict): string {
  return JSON.stringify(
    {
      result: verdict.result,
      problems: verdict.problems,
      failedChecks: verdict.outcome.failedChecks,
      exits: verdict.outcome.exits,
      logs: verdict.outcome.workDir,
    },
    null,
    2,
  );
}
