// The supervisor's restart and stop rules, with fake processes: nothing is spawned, no broker.
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProcessExit, ProcessorProcess } from './processor-process.ts';
import { Supervisor } from './supervisor.ts';
import type { SupervisorEvent, SupervisorOptions } from './supervisor.ts';
import type { LivenessAnswer } from './liveness-watch.ts';

interface FakeProcess extends ProcessorProcess {
  env: Record<string, string>;
  signals: NodeJS.Signals[];
  exit(exit: ProcessExit): void;
}

/** A launcher whose processes exit when told to, or on a signal as `onSignal` decides. */
function fakeLauncher(onSignal: (signal: NodeJS.Signals) => ProcessExit | undefined) {
  const launched: FakeProcess[] = [];
  let nextPid = 1000;
  const launch = (_name: string, env: Record<string, string>): ProcessorProcess => {
    let resolveExit: (exit: ProcessExit) => void = () => undefined;
    const exited = new Promise<ProcessExit>((resolve) => (resolveExit = resolve));
    const child = Object.assign(new EventEmitter(), { pid: nextPid++ }) as unknown as ChildProcess;
    const fake: FakeProcess = {
      child,
      exited,
      env,
      signals: [],
      exit: (exit) => resolveExit(exit),
      kill: (signal) => {
        fake.signals.push(signal);
        const exit = signal === 'SIGKILL' ? { code: null, signal } : onSignal(signal);
        if (exit !== undefined) resolveExit(exit);
      },
    };
    launched.push(fake);
    return fake;
  };
  return { launch, launched };
}

const logDir = mkdtempSync(join(tmpdir(), 'tributary-supervisor-test-'));
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

function supervisor(launch: SupervisorOptions['launch'], extra: Partial<SupervisorOptions> = {}) {
  return new Supervisor({
    members: [{ name: 'ingest', copies: 2, env: { TRIBUTARY_LOG_LEVEL: 'warn' } }],
    env: { TRIBUTARY_TOPIC_PREFIX: 'p.' },
    logDir,
    backoff: { initialMs: 20, maxMs: 200, resetAfterMs: 60_000 },
    stopTimeoutMs: 200,
    ...(launch === undefined ? {} : { launch }),
    ...extra,
  });
}

const until = async (check: () => boolean, timeoutMs = 2000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('Supervisor', () => {
  it('gives each copy its index as instance id and its own health port, over the shared env', async () => {
    const fakes = fakeLauncher(() => ({ code: 0, signal: null }));
    const s = supervisor(fakes.launch);
    await s.start();
    const [first, second] = fakes.launched;
    expect(first?.env).toMatchObject({ TRIBUTARY_TOPIC_PREFIX: 'p.', TRIBUTARY_INSTANCE_ID: 's0' });
    expect(second?.env).toMatchObject({ TRIBUTARY_LOG_LEVEL: 'warn', TRIBUTARY_INSTANCE_ID: 's1' });
    expect(Number(first?.env.TRIBUTARY_HTTP_PORT)).toBeGreaterThan(0);
    expect(first?.env.TRIBUTARY_HTTP_PORT).not.toBe(second?.env.TRIBUTARY_HTTP_PORT);
    expect(await s.stop()).toEqual([
      { copy: 'ingest#0', code: 0, signal: null, forced: false },
      { copy: 'ingest#1', code: 0, signal: null, forced: false },
    ]);
  });

  it('restarts a crashed copy after the backoff with the same instance id, and counts the restart', async () => {
    const fakes = fakeLauncher(() => ({ code: 0, signal: null }));
    const s = supervisor(fakes.launch);
    await s.start();
    fakes.launched[1]?.exit({ code: null, signal: 'SIGKILL' });
    await until(() => s.status()[1]?.state === 'waiting');
    expect(s.status()[1]?.lastExit?.description).toBe('killed by SIGKILL');
    await until(() => fakes.launched.length === 3);
    expect(fakes.launched[2]?.env.TRIBUTARY_INSTANCE_ID).toBe('s1');
    expect(s.status().map((c) => [c.state, c.restarts])).toEqual([
      ['running', 0],
      ['running', 1],
    ]);
    await s.stop();
  });

  it('starts nothing again once stopped: a copy waiting for its restart stays down', async () => {
    const fakes = fakeLauncher(() => ({ code: 0, signal: null }));
    const s = supervisor(fakes.launch, { backoff: { initialMs: 50, maxMs: 50, resetAfterMs: 60_000 } });
    await s.start();
    fakes.launched[0]?.exit({ code: 1, signal: null });
    await until(() => s.status()[0]?.state === 'waiting');
    const exits = await s.stop();
    expect(exits.map((e) => e.copy)).toEqual(['ingest#1']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fakes.launched).toHaveLength(2);
    expect(s.status().map((c) => c.state)).toEqual(['stopped', 'stopped']);
  });

  it('SIGKILLs a copy that ignores SIGTERM for longer than the stop timeout', async () => {
    const fakes = fakeLauncher(() => undefined); // never exits on SIGTERM
    const s = supervisor(fakes.launch);
    await s.start();
    const exits = await s.stop();
    expect(exits.every((e) => e.forced && e.signal === 'SIGKILL')).toBe(true);
    expect(fakes.launched[0]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('reports copies whose health server does not answer as running but not ready', async () => {
    const fakes = fakeLauncher(() => ({ code: 0, signal: null }));
    // A refused connection answers at once; the generous timeout only keeps a loaded machine (an event
    // loop starved for 200 ms) from turning "refused" into "no answer" (seen with 8 test runs at once).
    const s = supervisor(fakes.launch, { scrapeTimeoutMs: 5_000 });
    await s.start();
    const [member] = await s.observe();
    expect(member).toMatchObject({
      name: 'ingest',
      desired: 2,
      up: 2,
      ready: 0,
      restarts: 0,
      lag: undefined,
    });
    expect(member?.copies[0]?.readyReason).toBe('no health server yet');
    await s.stop();
  });

  it('SIGKILLs and restarts a copy whose /healthz says "not live" twice in a row; one that does not answer stays', async () => {
    const fakes = fakeLauncher(() => ({ code: 0, signal: null }));
    const events: SupervisorEvent[] = [];
    const stuckPort = (): string | undefined => fakes.launched[0]?.env.TRIBUTARY_HTTP_PORT;
    // Copy 0's first process is stuck; copy 1 never answers (still starting); the restarted copy is live.
    const probe = (_host: string, port: number): Promise<LivenessAnswer> =>
      Promise.resolve(
        String(port) === stuckPort() && fakes.launched.length === 2
          ? { live: false, reason: 'no commit for 181000 ms with records pending' }
          : String(port) === fakes.launched[1]?.env.TRIBUTARY_HTTP_PORT
            ? undefined
            : { live: true, reason: 'loop making progress' },
      );
    const s = supervisor(fakes.launch, {
      liveness: { intervalMs: 20, failuresToRestart: 2, timeoutMs: 100 },
      probeLiveness: probe,
      onEvent: (event) => events.push(event),
    });
    await s.start();
    await until(() => fakes.launched.length === 3);
    expect(fakes.launched[0]?.signals).toEqual(['SIGKILL']);
    expect(fakes.launched[1]?.signals).toEqual([]);
    expect(fakes.launched[2]?.env.TRIBUTARY_INSTANCE_ID).toBe('s0');
    expect(events.filter((e) => e.type === 'stuck')).toEqual([
      { type: 'stuck', copy: 'ingest#0', pid: 1000, reason: 'no commit for 181000 ms with records pending' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fakes.launched).toHaveLength(3);
    await s.stop();
  });
});
