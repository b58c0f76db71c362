// Detached child processes: spawn into their own process group with output to a log file, check whether a
// recorded pid is still the same process, signal whole groups, read the tail of a log.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync } from 'node:fs';
import { StackError } from './stack-error.ts';
import type { StackComponent } from './stack-error.ts';

export interface ProcessRecord {
  pid: number;
  /** Start time from /proc/<pid>/stat (clock ticks since boot): tells a reused pid from ours. */
  startTicks: number | null;
  logFile: string;
}

export interface SpawnDetachedOptions {
  component: StackComponent;
  command: string;
  args: string[];
  cwd: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts `command` in its own process group (setsid), stdout+stderr appended to `logFile` (previous log kept as .1). */
export async function spawnDetached(opts: SpawnDetachedOptions): Promise<ProcessRecord> {
  if (existsSync(opts.logFile)) renameSync(opts.logFile, `${opts.logFile}.1`);
  const fd = openSync(opts.logFile, 'a');
  try {
    const child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      detached: true,
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (error) =>
        reject(
          new StackError(opts.component, `could not start ${opts.command}: ${error.message}`, {
            cause: error,
          }),
        ),
      );
      child.once('spawn', () => resolve(child.pid ?? -1));
    });
    child.unref();
    return { pid, startTicks: startTicks(pid), logFile: opts.logFile };
  } finally {
    closeSync(fd);
  }
}

function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function startTicks(pid: number): number | null {
  const ticks = procStat(pid)?.[19];
  return ticks === undefined ? null : Number(ticks);
}

/** True while the recorded process runs (not a zombie, and not another process that got the same pid). */
export function isAlive(record: ProcessRecord): boolean {
  const stat = procStat(record.pid);
  if (stat === undefined) {
    if (existsSync('/proc/self/stat')) return false;
    try {
      process.kill(record.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  if (stat[0] === 'Z' || stat[0] === 'X') return false;
  return record.startTicks === null || Number(stat[19]) === record.startTicks;
}

/** Signals the process group led by `pid` (our children are group leaders); ignores a group already gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the process `pid` is stopped (state T) after a SIGSTOP: the signal is delivered
 * asynchronously, and a broker answers requests for a few milliseconds more. Returns whether it stopped.
 */
export async function waitUntilStopped(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (procStat(pid)?.[0] !== 'T') {
    if (Date.now() > deadline) return false;
    await sleep(2);
  }
  return true;
}

/** Waits until none of `records` is alive; returns those still alive after `timeoutMs`. */
export async function waitForExit(records: ProcessRecord[], timeoutMs: number): Promise<ProcessRecord[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = records.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(100);
    alive = alive.filter(isAlive);
  }
  return alive;
}

/** The last `lines` lines of a (possibly large) log file, or a note when there is none. */
export function tailFile(path: string, lines = 30): string {
  if (!existsSync(path)) return `(no log at ${path})`;
  const size = statSync(path).size;
  const length = Math.min(size, 64 * 1024);
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  const text = buffer.toString('utf8').trimEnd();
  return text === '' ? `(${path} is empty)` : text.split('\n').slice(-lines).join('\n');
}
