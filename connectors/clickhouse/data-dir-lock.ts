// One process owns an embedded ClickHouse data directory at a time: a lock file holding the owner's pid
// (and where its query endpoint answers). A lock whose process is gone is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TributaryError } from '../../runtime/index.ts';

export const LOCK_FILE = 'tributary.lock';

export interface LockOwner {
  pid: number;
  /** What holds it, e.g. `clickhouse-sink` or `query`. */
  holder: string;
  /** Base URL of the owner's query endpoint, when it serves one. */
  queryUrl?: string;
}

export interface DataDirLock {
  readonly path: string;
  /** Records where the owner's query endpoint answers, for `tributary query`. */
  setQueryUrl(url: string): void;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live owner of the directory, or undefined when it is free (no lock, or a dead owner's). */
export function lockOwner(dataDir: string): LockOwner | undefined {
  let owner: Partial<LockOwner>;
  try {
    owner = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as Partial<LockOwner>;
  } catch {
    return undefined;
  }
  if (typeof owner.pid !== 'number' || owner.pid === process.pid || !isAlive(owner.pid)) return undefined;
  return {
    pid: owner.pid,
    holder: owner.holder ?? 'unknown',
    ...(owner.queryUrl ? { queryUrl: owner.queryUrl } : {}),
  };
}

function write(path: string, owner: LockOwner, exclusive: boolean): void {
  const fd = openSync(path, exclusive ? 'wx' : 'w');
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
}

/** Takes the directory or throws TRIBUTARY_CLICKHOUSE_DATA_DIR_LOCKED naming the owner. */
export function lockDataDir(dataDir: string, holder: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const owner: LockOwner = { pid: process.pid, holder };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      write(path, owner, true);
      return {
        path,
        setQueryUrl: (url) => write(path, { ...owner, queryUrl: url }, false),
        release: () => rmSync(path, { force: true }),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const live = lockOwner(dataDir);
    if (live !== undefined) {
      throw new TributaryError(
        'TRIBUTARY_CLICKHOUSE_DATA_DIR_LOCKED',
        `the embedded ClickHouse data directory ${dataDir} is in use by ${live.holder} (pid ${live.pid}); ` +
          'only one process may own it. Stop that process, query through its endpoint, or set ' +
          'TRIBUTARY_CLICKHOUSE_DATA_DIR to another directory.',
        { context: { dataDir, ...live } },
      );
    }
    rmSync(path, { force: true }); // its owner died without releasing it
  }
  throw new Error(`could not take the lock ${path}`);
}
