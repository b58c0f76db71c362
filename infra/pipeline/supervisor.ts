// Runs the pipeline's members as OS processes (`tributary run <name>`), N copies each. Every copy has a
// stable instance id (its index, so a restarted copy fences its own zombie) and its own health port, so
// the supervisor can read its /readyz and /metrics. A copy that exits unasked is restarted with backoff
// (backoff.ts), and so is one whose /healthz keeps saying its loop is stuck (liveness-watch.ts: it is
// SIGKILLed, which exactly once survives by design, since a stuck loop may never finish a SIGTERM);
// stop() sends SIGTERM to all, waits, and SIGKILLs what is still running after a timeout.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findFreePort } from '../stack/ports.ts';
import { DEFAULT_BACKOFF, classifyExit, describeExit, planRestart } from './backoff.ts';
import type { BackoffPolicy } from './backoff.ts';
import { readCopyHealth } from './copy-health.ts';
import { DEFAULT_LIVENESS_PROBE, LivenessWatch, probeHealthz } from './liveness-watch.ts';
import type { LivenessProbe, LivenessProbeOptions, WatchedCopy } from './liveness-watch.ts';
import { counterDelta } from './metrics-text.ts';
import { startProcessor } from './processor-process.ts';
import type { ProcessExit, ProcessorProcess } from './processor-process.ts';
import type {
  CopyExit,
  CopyObservation,
  CopyStatus,
  LastExit,
  MemberObservation,
} from './supervisor-status.ts';

export type {
  CopyExit,
  CopyObservation,
  CopyState,
  CopyStatus,
  LastExit,
  MemberObservation,
} from './supervisor-status.ts';

export interface MemberSpec {
  /** What `tributary run <name>` runs: a processor or a sink. */
  name: string;
  copies: number;
  /** Env for every copy of this member, over the supervisor's. */
  env?: Record<string, string>;
}

export type Launcher = (name: string, env: Record<string, string>, logFile: string) => ProcessorProcess;

export interface SupervisorOptions {
  members: readonly MemberSpec[];
  /** Env for every copy (brokers, registry, prefix…); TRIBUTARY_INSTANCE_ID and TRIBUTARY_HTTP_PORT are per copy. */
  env: Record<string, string>;
  /** Each copy's output is appended to `<logDir>/<name>-<index>.log`, across restarts. */
  logDir: string;
  /** Restart waits; default DEFAULT_BACKOFF (1 s doubling to 30 s, reset after 60 s of running). */
  backoff?: BackoffPolicy;
  /** How long stop() waits after SIGTERM before SIGKILL, in ms. Default 30000 (a copy gives up after 20 s). */
  stopTimeoutMs?: number;
  /** Longest read of one copy's /readyz or /metrics, in ms. Default 1000. */
  scrapeTimeoutMs?: number;
  /** Address the copies' health servers answer on. Default 127.0.0.1 (their default). */
  healthHost?: string;
  onEvent?: (event: SupervisorEvent) => void;
  /** Starts one copy; default startProcessor. */
  launch?: Launcher;
  /** The /healthz probe's timing (default DEFAULT_LIVENESS_PROBE), or false for none. */
  liveness?: Partial<LivenessProbeOptions> | false;
  /** Reads one copy's /healthz; default probeHealthz. */
  probeLiveness?: LivenessProbe;
}

export type SupervisorEvent =
  | { type: 'started'; copy: string; pid: number | undefined; port: number; restarts: number }
  | { type: 'stuck'; copy: string; pid: number | undefined; reason: string }
  | {
      type: 'exited';
      copy: string;
      exit: ProcessExit;
      description: string;
      restartInMs: number | undefined;
      logFile: string;
    };

interface Copy {
  member: MemberSpec;
  index: number;
  logFile: string;
  process: ProcessorProcess | undefined;
  port: number | undefined;
  /** Counts starts, so figures from a previous process are never mixed with the current one's. */
  generation: number;
  startedAt: number;
  restarts: number;
  failures: number;
  lastExit: LastExit | undefined;
  restartAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
  seen: { generation: number; consumed: number; deadLetters: number } | undefined;
  consumed: number;
  deadLetters: number;
}

const label = (copy: Copy): string => `${copy.member.name}#${copy.index}`;

export class Supervisor {
  private readonly copies: Copy[];
  private readonly backoff: BackoffPolicy;
  private readonly launcher: Launcher;
  private stopRequested = false;
  private stopping: Promise<CopyExit[]> | undefined;
  private lastObservedAt = Date.now();
  private readonly liveness: LivenessWatch | undefined;
  private readonly killAllNow = (): void => {
    for (const copy of this.copies) copy.process?.kill('SIGKILL');
  };

  constructor(private readonly options: SupervisorOptions) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.launcher = options.launch ?? startProcessor;
    this.copies = options.members.flatMap((member) =>
      Array.from({ length: member.copies }, (_, index) => ({
        member,
        index,
        logFile: join(options.logDir, `${member.name}-${index}.log`),
        process: undefined,
        port: undefined,
        generation: 0,
        startedAt: 0,
        restarts: 0,
        failures: 0,
        lastExit: undefined,
        restartAt: undefined,
        timer: undefined,
        seen: undefined,
        consumed: 0,
        deadLetters: 0,
      })),
    );
    this.liveness = this.livenessWatch();
  }

  private livenessWatch(): LivenessWatch | undefined {
    const { liveness } = this.options;
    if (liveness === false) return undefined;
    const options = {
      ...DEFAULT_LIVENESS_PROBE,
      ...liveness,
      host: this.options.healthHost ?? '127.0.0.1',
      probe: this.options.probeLiveness ?? probeHealthz,
    };
    const watched = (): WatchedCopy[] =>
      this.copies.flatMap((copy) =>
        copy.process === undefined
          ? []
          : [{ label: label(copy), port: copy.port, generation: copy.generation }],
      );
    return new LivenessWatch(options, watched, (stuck, reason) => this.restartStuck(stuck, reason));
  }

  /** Kills a copy whose loop says it is stuck; its exit restarts it like a crash. */
  private restartStuck(stuck: WatchedCopy, reason: string): void {
    const copy = this.copies.find((c) => label(c) === stuck.label && c.generation === stuck.generation);
    if (copy?.process === undefined || this.stopRequested) return;
    this.emit({ type: 'stuck', copy: stuck.label, pid: copy.process.child.pid, reason });
    copy.process.kill('SIGKILL');
  }

  /** Starts every copy; resolves once all are spawned (not yet ready: see observe()). */
  async start(): Promise<void> {
    mkdirSync(this.options.logDir, { recursive: true });
    // If this process ends without stop() (a crash), its children must not outlive it.
    process.once('exit', this.killAllNow);
    this.lastObservedAt = Date.now();
    for (const copy of this.copies) await this.launch(copy);
    this.liveness?.start();
  }

  status(): CopyStatus[] {
    const now = Date.now();
    return this.copies.map((copy) => ({
      member: copy.member.name,
      index: copy.index,
      state: copy.process !== undefined ? 'running' : copy.restartAt !== undefined ? 'waiting' : 'stopped',
      pid: copy.process?.child.pid,
      port: copy.port,
      restarts: copy.restarts,
      lastExit: copy.lastExit,
      restartInMs: copy.restartAt === undefined ? undefined : Math.max(0, copy.restartAt - now),
      logFile: copy.logFile,
    }));
  }

  /** Reads every running copy's /readyz and /metrics and sums them up per member. */
  async observe(): Promise<MemberObservation[]> {
    const now = Date.now();
    const elapsedS = Math.max(0.001, (now - this.lastObservedAt) / 1000);
    this.lastObservedAt = now;
    const statuses = this.status();
    const observed = await Promise.all(
      this.copies.map((copy, i) => this.observeCopy(copy, statuses[i] as CopyStatus)),
    );
    return this.options.members.map((member) => {
      const mine = observed.filter((o) => o.observation.member === member.name);
      const lags = mine.flatMap((o) =>
        o.observation.figures?.lag === undefined ? [] : [o.observation.figures.lag],
      );
      const own = this.copies.filter((c) => c.member === member);
      return {
        name: member.name,
        desired: member.copies,
        up: mine.filter((o) => o.observation.state === 'running').length,
        ready: mine.filter((o) => o.observation.ready).length,
        restarts: own.reduce((n, c) => n + c.restarts, 0),
        eventsPerS: mine.reduce((n, o) => n + o.consumedDelta, 0) / elapsedS,
        consumed: own.reduce((n, c) => n + c.consumed, 0),
        deadLetters: own.reduce((n, c) => n + c.deadLetters, 0),
        lag: lags.length === 0 ? undefined : lags.reduce((a, b) => a + b, 0),
        copies: mine.map((o) => o.observation),
      };
    });
  }

  /** SIGTERM to every copy, no more restarts; SIGKILL after stopTimeoutMs. Safe to call twice. */
  /** Resolves once every copy of every member answers /readyz; throws after `timeoutMs`. */
  async waitUntilReady(timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const members = await this.observe();
      if (members.every((m) => m.ready === m.desired)) return;
      if (Date.now() > deadline) {
        const waiting = members
          .filter((m) => m.ready < m.desired)
          .map((m) => `${m.name} ${m.ready}/${m.desired}`);
        throw new Error(`not ready after ${Math.round(timeoutMs / 1000)} s: ${waiting.join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  stop(): Promise<CopyExit[]> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<CopyExit[]> {
    this.stopRequested = true;
    this.liveness?.stop();
    for (const copy of this.copies) {
      clearTimeout(copy.timer);
      copy.timer = undefined;
      copy.restartAt = undefined;
    }
    const running = this.copies.flatMap((copy) =>
      copy.process === undefined ? [] : [{ copy, process: copy.process }],
    );
    for (const { process: child } of running) child.kill('SIGTERM');
    const timeoutMs = this.options.stopTimeoutMs ?? 30_000;
    const exits = await Promise.all(
      running.map(async ({ copy, process: child }) => {
        const { exit, forced } = await exitWithin(child, timeoutMs);
        return { copy: label(copy), code: exit.code, signal: exit.signal, forced };
      }),
    );
    process.removeListener('exit', this.killAllNow);
    return exits;
  }

  private async launch(copy: Copy): Promise<void> {
    let port: number;
    try {
      port = await findFreePort();
    } catch {
      port = 0; // the copy picks one itself; its figures are then not readable
    }
    if (this.stopRequested) return;
    const env = {
      ...this.options.env,
      ...copy.member.env,
      // `s<i>`: stable across restarts (a restarted copy fences its dead predecessor's transaction) and
      // distinct from the numeric slots that copies started by hand with `tributary run` claim.
      TRIBUTARY_INSTANCE_ID: `s${copy.index}`,
      TRIBUTARY_HTTP_PORT: String(port),
    };
    const child = this.launcher(copy.member.name, env, copy.logFile);
    copy.process = child;
    copy.port = port === 0 ? undefined : port;
    copy.generation++;
    copy.startedAt = Date.now();
    copy.restartAt = undefined;
    // A spawn failure (no pid) counts as an exit, so it is retried like a crash rather than thrown.
    child.child.on('error', () => {
      if (child.child.pid === undefined) this.onExit(copy, child, { code: 1, signal: null });
    });
    void child.exited.then((exit) => this.onExit(copy, child, exit));
    this.emit({ type: 'started', copy: label(copy), pid: child.child.pid, port, restarts: copy.restarts });
  }

  private onExit(copy: Copy, child: ProcessorProcess, exit: ProcessExit): void {
    if (copy.process !== child) return; // already handled (error then exit)
    const now = Date.now();
    copy.process = undefined;
    copy.port = undefined;
    const description = describeExit(exit);
    copy.lastExit = { ...exit, kind: classifyExit(exit), description, at: now };
    const plan = planRestart(this.backoff, copy.failures, exit, now - copy.startedAt, this.stopRequested);
    if (!plan.restart) {
      const logFile = copy.logFile;
      this.emit({ type: 'exited', copy: label(copy), exit, description, restartInMs: undefined, logFile });
      return;
    }
    copy.failures = plan.consecutiveFailures;
    copy.restartAt = now + plan.delayMs;
    copy.timer = setTimeout(() => {
      copy.timer = undefined;
      copy.restarts++;
      void this.launch(copy);
    }, plan.delayMs);
    const logFile = copy.logFile;
    this.emit({ type: 'exited', copy: label(copy), exit, description, restartInMs: plan.delayMs, logFile });
  }

  private async observeCopy(
    copy: Copy,
    status: CopyStatus,
  ): Promise<{ observation: CopyObservation; consumedDelta: number }> {
    const generation = copy.generation;
    if (copy.process === undefined || copy.port === undefined) {
      const reason =
        status.state === 'waiting'
          ? `${status.lastExit?.description ?? 'exited'}; restart in ${Math.ceil((status.restartInMs ?? 0) / 1000)} s`
          : status.state;
      return {
        observation: { ...status, ready: false, readyReason: reason, figures: undefined },
        consumedDelta: 0,
      };
    }
    const health = await readCopyHealth(
      this.options.healthHost ?? '127.0.0.1',
      copy.port,
      this.options.scrapeTimeoutMs ?? 1000,
    );
    let consumedDelta = 0;
    const figures = health.figures;
    if (figures !== undefined && copy.generation === generation) {
      const previous = copy.seen?.generation === generation ? copy.seen : undefined;
      consumedDelta = counterDelta(previous?.consumed, figures.consumed);
      copy.consumed += consumedDelta;
      copy.deadLetters += counterDelta(previous?.deadLetters, figures.deadLetters);
      copy.seen = { generation, consumed: figures.consumed, deadLetters: figures.deadLetters };
    }
    return {
      observation: { ...status, ready: health.ready, readyReason: health.reason, figures },
      consumedDelta,
    };
  }

  private emit(event: SupervisorEvent): void {
    this.options.onEvent?.(event);
  }
}

/** The child's exit, SIGKILLing it if it has not exited within `timeoutMs`. */
async function exitWithin(
  child: ProcessorProcess,
  timeoutMs: number,
): Promise<{ exit: ProcessExit; forced: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  const exit = await Promise.race([child.exited, timedOut]);
  clearTimeout(timer);
  if (exit !== undefined) return { exit, forced: false };
  child.kill('SIGKILL');
  return { exit: await child.exited, forced: true };
}
