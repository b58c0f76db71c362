// A per-data-dir lock so two `stack up`/`stack down` on the same dir never interleave.
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './stack-error.ts';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes `<dataDir>/stack.lock` (holding our pid) or throws naming the holder; returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, 'stack.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && pidAlive(holder)) {
        throw new StackError(
          'stack',
          `another stack command (pid ${holder}) is working on ${dataDir}; wait for it to finish.`,
        );
      }
      rmSync(file, { force: true }); // left by a process that died
    }
  }
  throw new StackError('stack', `could not take the lock ${file}`);
}
