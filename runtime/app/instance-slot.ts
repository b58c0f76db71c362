// Gives each copy of a processor on this machine a stable slot number: a restarted copy gets its old
// slot back (so its transactional id fences its own zombie and aborts its dangling transaction at once),
// while copies running side by side get different ones.
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface InstanceSlot {
  id: string;
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

function tryClaim(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const owner = Number(readFileSync(path, 'utf8').trim());
  if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) return false;
  // The previous owner died (SIGKILL, crash): take its slot over.
  rmSync(path, { force: true });
  return tryClaim(path);
}

export function claimInstanceSlot(stateDir: string, group: string, maxSlots = 256): InstanceSlot {
  const dir = join(stateDir, 'instances', group);
  mkdirSync(dir, { recursive: true });
  for (let slot = 0; slot < maxSlots; slot++) {
    const path = join(dir, `${slot}.pid`);
    if (tryClaim(path)) {
      return { id: String(slot), release: () => rmSync(path, { force: true }) };
    }
  }
  throw new Error(`no free instance slot for ${group} under ${dir} (${maxSlots} copies alive?)`);
}
