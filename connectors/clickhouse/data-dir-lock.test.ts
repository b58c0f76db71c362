// One owner per embedded data directory: a second process is refused with a message naming the owner
// and what to do; a lock left by a process that died is taken over.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isTributaryError } from '../../runtime/index.ts';
import { LOCK_NAME, lockDataDir, lockOwner } from './data-dir-lock.ts';

const LOCK_MODULE = fileURLToPath(new URL('./data-dir-lock.ts', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The directory's one current lock file (its highest generation). */
function lockFileIn(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.startsWith(`${LOCK_NAME}.`) && f.endsWith('.claim'));
  const generation = (f: string): number => Number(f.split('.').at(-2));
  const newest = files.sort((a, b) => generation(b) - generation(a))[0];
  if (newest === undefined) throw new Error(`no lock file in ${dir}`);
  return join(dir, newest);
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-lock-'));
  dirs.push(dir);
  return dir;
}

/**
 * Another OS process takes the lock on `dataDir` (as `holder`), prints `locked`, and then either holds
 * it for `holdMs` or exits at once without releasing it (as a SIGKILLed owner would).
 */
async function lockInAnotherProcess(dataDir: string, holder: string, holdMs: number): Promise<ChildProcess> {
  const script =
    `import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)};` +
    `lockDataDir(process.argv[1], process.argv[2]); console.log('locked');` +
    `setTimeout(() => {}, Number(process.argv[3]));`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, dataDir, holder, String(holdMs)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the locking process exited with ${code}`)));
  });
  return child;
}

describe('lockDataDir', () => {
  it('takes a free directory, records the query URL, and frees it on release', () => {
    const dir = tempDir();
    const lock = lockDataDir(join(dir, 'clickhouse'), 'clickhouse-sink');
    lock.setQueryUrl('http://127.0.0.1:8123');
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toEqual({
      pid: process.pid,
      holder: 'clickhouse-sink',
      queryUrl: 'http://127.0.0.1:8123',
    });
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    expect(lockOwner(join(dir, 'clickhouse'))).toBeUndefined();
  });

  it('refuses a second holder while the first is alive, naming it and what to do', async () => {
    const dir = tempDir();
    const owner = await lockInAnotherProcess(dir, 'clickhouse-sink', 60_000);
    expect(lockOwner(dir)).toEqual({ pid: owner.pid, holder: 'clickhouse-sink' });
    let refusal: unknown;
    try {
      lockDataDir(dir, 'query');
    } catch (error) {
      refusal = error;
    }
    expect(isTributaryError(refusal) && refusal.code).toBe('TRIBUTARY_CLICKHOUSE_DATA_DIR_LOCKED');
    expect((refusal as Error).message).toBe(
      `the embedded ClickHouse data directory ${dir} is in use by clickhouse-sink (pid ${owner.pid}); ` +
        'only one process may own it. Stop that process, query through its endpoint, or set ' +
        'TRIBUTARY_CLICKHOUSE_DATA_DIR to another directory.',
    );
    // The refusal leaves the owner's lock as it was.
    expect(JSON.parse(readFileSync(lockFileIn(dir), 'utf8'))).toMatchObject({ pid: owner.pid });
  });

  it('takes over the lock of an owner that died without releasing it', async () => {
    const dir = tempDir();
    const owner = await lockInAnotherProcess(dir, 'clickhouse-sink', 0);
    await new Promise((resolve) => owner.once('exit', resolve));
    expect(JSON.parse(readFileSync(lockFileIn(dir), 'utf8'))).toMatchObject({ pid: owner.pid });
    expect(lockOwner(dir)).toBeUndefined();
    const lock = lockDataDir(dir, 'query');
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toEqual({ pid: process.pid, holder: 'query' });
    lock.release();
  });

  it('treats an unreadable lock file as no owner', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir, 'a');
    rmSync(lock.path);
    expect(lockOwner(dir)).toBeUndefined();
  });
});
