// One process owns an embedded ClickHouse data directory at a time: a lock holding the owner's pid (and
// where its query endpoint answers), taken with atomic file operations (runtime/app/host/exclusive-claim.ts),
// so two processes can never both take it, nor one read it half written. A dead owner's lock is taken over.
import { TributaryError, claimOwner, tryClaim } from '../../runtime/index.ts';

/** The lock's name inside the data directory: generation files `tributary.lock.<n>.claim`. */
export const LOCK_NAME = 'tributary.lock';

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

// A lock under this process's own pid is a previous life's (a restarted container reuses pids).
const OPTIONS = { ownPid: 'stale' } as const;

/** The live owner of the directory, or undefined when it is free (no lock, or a dead owner's). */
export function lockOwner(dataDir: string): LockOwner | undefined {
  const owner = claimOwner(dataDir, LOCK_NAME, OPTIONS);
  if (owner === undefined) return undefined;
  const { holder, queryUrl } = owner as Partial<LockOwner>;
  return {
    pid: owner.pid,
    holder: typeof holder === 'string' ? holder : 'unknown',
    ...(typeof queryUrl === 'string' && queryUrl !== '' ? { queryUrl } : {}),
  };
}

/** Takes the directory or throws TRIBUTARY_CLICKHOUSE_DATA_DIR_LOCKED naming the owner. */
export function lockDataDir(dataDir: string, holder: string): DataDirLock {
  const owner: LockOwner = { pid: process.pid, holder };
  const result = tryClaim(dataDir, LOCK_NAME, { ...owner }, OPTIONS);
  if (result.claimed) {
    const { claim } = result;
    return {
      path: claim.path,
      setQueryUrl: (url) => claim.update({ ...owner, queryUrl: url }),
      release: () => claim.release(),
    };
  }
  const live = lockOwner(dataDir) ?? { pid: result.owner.pid, holder: 'unknown' };
  throw new TributaryError(
    'TRIBUTARY_CLICKHOUSE_DATA_DIR_LOCKED',
    `the embedded ClickHouse data directory ${dataDir} is in use by ${live.holder} (pid ${live.pid}); ` +
      'only one process may own it. Stop that process, query through its endpoint, or set ' +
      'TRIBUTARY_CLICKHOUSE_DATA_DIR to another directory.',
    { context: { dataDir, ...live } },
  );
}
