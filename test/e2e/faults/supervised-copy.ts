// One processor copy in a fault case, restarted as the supervisor would whenever it exits; the fault
// switch applies to its first run only, so the restarted copy runs clean and the run can finish.
import { existsSync, readFileSync } from 'node:fs';
import { processEnv, startProcessor } from '../../../infra/pipeline/processor-process.ts';
import type { ProcessExit, ProcessorProcess } from '../../../infra/pipeline/processor-process.ts';
import { FAULT_VARIABLE } from '../../../runtime/testing/fault-points.ts';

export interface CaseStack {
  brokers: string;
  registryUrl: string;
}

export interface CopySpec {
  /** `ingest` or `sink` (the names `tributary run` takes). */
  processor: string;
  instanceId: string;
  /** Extra TRIBUTARY_* settings for every run of this copy. */
  env?: Record<string, string>;
  /** TRIBUTARY_TEST_FAULT for the first run only. */
  fault?: string;
}

export interface CopyExit extends ProcessExit {
  /** Milliseconds since the case started. */
  atMs: number;
}

const RESTART_DELAY_MS = 500;

export class SupervisedCopy {
  private current: ProcessorProcess;
  private stopping = false;
  private runs = 0;
  readonly exits: CopyExit[] = [];

  constructor(
    readonly spec: CopySpec,
    private readonly baseEnv: Record<string, string>,
    readonly logFile: string,
    private readonly startedAt: number,
  ) {
    this.current = this.launch();
  }

  get process(): ProcessorProcess {
    return this.current;
  }

  /** The process id of the run in hand (for SIGSTOP/SIGCONT from a test). */
  get pid(): number {
    return this.current.child.pid ?? -1;
  }

  private launch(): ProcessorProcess {
    const fault = this.runs === 0 ? this.spec.fault : undefined;
    this.runs++;
    const env = {
      ...this.baseEnv,
      ...this.spec.env,
      ...(fault === undefined ? {} : { [FAULT_VARIABLE]: fault }),
    };
    const child = startProcessor(this.spec.processor, env, this.logFile);
    void child.exited.then((exit) => this.onExit(exit));
    return child;
  }

  private onExit(exit: ProcessExit): void {
    if (this.stopping) return;
    this.exits.push({ ...exit, atMs: Date.now() - this.startedAt });
    setTimeout(() => {
      if (!this.stopping) this.current = this.launch();
    }, RESTART_DELAY_MS);
  }

  /** SIGTERM and wait; the exit code of the last run (0 is a clean stop). */
  async stop(): Promise<number | null> {
    this.stopping = true;
    this.current.kill('SIGTERM');
    const exit = await this.current.exited;
    return exit.code;
  }
}

/** The TRIBUTARY_* settings every copy of a case shares: its stack, prefix, state dir, partitions. */
export function caseEnv(
  stack: CaseStack,
  prefix: string,
  stateDir: string,
  partitions: number,
): Record<string, string> {
  return processEnv(
    { brokers: stack.brokers, registryUrl: stack.registryUrl, prefix, stateDir },
    // Batches of 1000: many transactions per copy, so a fault at the n-th one lands mid-stream.
    {
      TRIBUTARY_DEFAULT_PARTITIONS: String(partitions),
      TRIBUTARY_LOG_LEVEL: 'info',
      TRIBUTARY_MAX_BATCH_RECORDS: '1000',
    },
  );
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the copy's log has a line matching `pattern` (it is processing, it said why it waits…). */
export async function waitForLog(copy: SupervisedCopy, pattern: RegExp, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (logMatches(copy, pattern)) return true;
    await sleep(250);
  }
  return false;
}

export function logMatches(copy: SupervisedCopy, pattern: RegExp): boolean {
  return existsSync(copy.logFile) && pattern.test(readFileSync(copy.logFile, 'utf8'));
}

/** The health port the copy's current run logged at start, if it has. */
function healthPort(copy: SupervisedCopy): number | undefined {
  if (!existsSync(copy.logFile)) return undefined;
  const ports = [...readFileSync(copy.logFile, 'utf8').matchAll(/health and metrics on [^"]*:(\d+)"/g)];
  const last = ports.at(-1)?.[1];
  return last === undefined ? undefined : Number(last);
}

/** Waits until the copy's /readyz answers 200 (assigned, restored, caught up); false on timeout. */
export async function waitForReady(copy: SupervisedCopy, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const port = healthPort(copy);
    if (port !== undefined) {
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) return true;
    }
    await sleep(500);
  }
  return false;
}
