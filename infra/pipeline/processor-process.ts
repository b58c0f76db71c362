// Runs a processor as a real OS process (`tributary run <name>`), for tests that kill and restart it.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessorProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ProcessExit>;
  kill(signal: NodeJS.Signals): void;
}

export interface ProcessEnvBase {
  brokers: string;
  registryUrl: string;
  /** Topic/group/transactional-id prefix that isolates this run. */
  prefix: string;
  stateDir: string;
}

/** TRIBUTARY_* settings for a copy run by a test or a tool: its stack, its prefix, quick failover. */
export function processEnv(base: ProcessEnvBase, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TRIBUTARY_KAFKA_BROKERS: base.brokers,
    TRIBUTARY_REGISTRY_URL: base.registryUrl,
    TRIBUTARY_TOPIC_PREFIX: base.prefix,
    TRIBUTARY_STATE_DIR: base.stateDir,
    // The broker's minimum: a killed copy's partitions move to the survivors within seconds.
    TRIBUTARY_SESSION_TIMEOUT_MS: '6000',
    ...extra,
  };
}

/**
 * Same as `./tributary`: a bounded heap, so V8 collects garbage instead of growing to gigabytes, and
 * `run` from the CLI's bundle, without tsx's loader thread (cli/bundled.mjs; other commands use tsx).
 */
const CLI_ARGS = ['--max-old-space-size=384', 'cli/bundled.mjs'];
const RUN_ARGS = [...CLI_ARGS, 'run'];

/** TRIBUTARY_CPU_PROFILE_DIR=dir: each processor writes a V8 CPU profile there when it exits (benchmarks). */
function profiling(): string[] {
  const dir = process.env['TRIBUTARY_CPU_PROFILE_DIR'];
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** Children still running; killed when this process exits, so a failed test leaves no orphans behind. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `tributary run <name>` with the given TRIBUTARY_* settings; output goes to `logFile`. */
export function startProcessor(name: string, env: Record<string, string>, logFile: string): ProcessorProcess {
  const child = spawn(process.execPath, [...profiling(), ...RUN_ARGS, name], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  live.add(child);
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  return {
    child,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Runs a processor to completion and returns its exit and everything it printed. */
export function runProcessorToExit(
  name: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ProcessExit & { output: string }> {
  return runCommandToExit('run', [name], env, timeoutMs);
}

/** Runs `tributary <command> <args>` to its exit (killed after `timeoutMs`), with its output. */
export async function runCommandToExit(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ProcessExit & { output: string }> {
  const child = spawn(process.execPath, [...CLI_ARGS, command, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await new Promise<ProcessExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  clearTimeout(timer);
  return { ...exit, output };
}
