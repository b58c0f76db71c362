// One owner per name in a directory, taken with atomic file operations only, so that racing processes
// (on one host) can never both hold it. A claim is a sequence of generation files `<name>.<n>.claim`,
// each created complete (written to a temp file, then hard-linked: link(2) fails if the name exists).
// The owner is the highest generation when it is held by a live process. Taking over from a dead or
// released owner means creating generation n+1, which only one racer can do; a racer that created a
// lower generation from an older view sees a higher one afterwards and backs off. A lock file is never
// deleted and re-created in place, so no one can remove a claim they did not read, nor read one half
// written.
import { linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Claims say which process runs where: readable by this user only. */
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

export type ClaimContent = Record<string, unknown> & { pid: number };

export interface Claim {
  readonly path: string;
  /** Replaces the owner's content (e.g. where its endpoint answers), atomically. */
  update(content: Record<string, unknown>): void;
  /** Marks the name free (a newer generation), then removes this one. */
  release(): void;
}

export interface ClaimOptions {
  /** A claim recorded under this process's own pid: still held (default) or a previous life's leftover. */
  ownPid?: 'held' | 'stale';
}

export type ClaimResult = { claimed: true; claim: Claim } | { claimed: false; owner: ClaimContent };

const FREE = { free: true };

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function generations(dir: string, name: string): number[] {
  const prefix = `${name}.`;
  return readdirSync(dir)
    .filter((file) => file.startsWith(prefix) && file.endsWith('.claim'))
    .map((file) => Number(file.slice(prefix.length, -'.claim'.length)))
    .filter((n) => Number.isSafeInteger(n) && n > 0);
}

const fileOf = (dir: string, name: string, generation: number): string =>
  join(dir, `${name}.${generation}.claim`);

/** Writes `content` to a temp file, then links it at `path`; false when `path` already exists. */
function createComplete(path: string, content: object): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temp, JSON.stringify(content), { mode: PRIVATE_FILE });
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

type Read = { state: 'gone' } | { state: 'free' } | { state: 'held'; owner: ClaimContent };

function readGeneration(path: string, options: ClaimOptions): Read {
  let parsed: Partial<ClaimContent> & { free?: boolean };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as typeof parsed;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'gone' };
    return { state: 'free' }; // not ours (files are created complete): nobody holds it
  }
  const pid = parsed.pid;
  if (parsed.free === true || typeof pid !== 'number' || !isAlive(pid)) return { state: 'free' };
  if (pid === process.pid && options.ownPid === 'stale') return { state: 'free' };
  return { state: 'held', owner: { ...parsed, pid } };
}

/** The live owner of `name`, or undefined when it is free. */
export function claimOwner(dir: string, name: string, options: ClaimOptions = {}): ClaimContent | undefined {
  for (;;) {
    const top = Math.max(0, ...safeGenerations(dir, name));
    if (top === 0) return undefined;
    const read = readGeneration(fileOf(dir, name, top), options);
    if (read.state === 'gone') continue; // superseded while we looked: look again
    return read.state === 'held' ? read.owner : undefined;
  }
}

function safeGenerations(dir: string, name: string): number[] {
  try {
    return generations(dir, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Takes `name` in `dir` for this process, or answers who holds it. */
export function tryClaim(
  dir: string,
  name: string,
  content: ClaimContent,
  options: ClaimOptions = {},
): ClaimResult {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  for (;;) {
    const seen = generations(dir, name);
    const top = Math.max(0, ...seen);
    if (top > 0) {
      const read = readGeneration(fileOf(dir, name, top), options);
      if (read.state === 'gone') continue;
      if (read.state === 'held') return { claimed: false, owner: read.owner };
    }
    const mine = top + 1;
    const path = fileOf(dir, name, mine);
    if (!createComplete(path, content)) continue; // another racer took this generation
    if (Math.max(...generations(dir, name)) !== mine) {
      rmSync(path, { force: true }); // created from an older view: a newer claim exists
      continue;
    }
    for (const older of seen) rmSync(fileOf(dir, name, older), { force: true });
    return { claimed: true, claim: ownedClaim(dir, name, mine) };
  }
}

function ownedClaim(dir: string, name: string, generation: number): Claim {
  const path = fileOf(dir, name, generation);
  return {
    path,
    update(content) {
      const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
      writeFileSync(temp, JSON.stringify(content), { mode: PRIVATE_FILE });
      renameSync(temp, path);
    },
    release() {
      createComplete(fileOf(dir, name, generation + 1), FREE);
      rmSync(path, { force: true });
    },
  };
}
