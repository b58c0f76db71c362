// Stops a stack when the process that started it dies without stopping it (a test run killed mid-way), so
// interrupted runs do not leave JVMs behind. Runs as its own detached process:
//   node --import tsx infra/stack/watchdog.ts <ownerPid> <dataDir> [--remove]
// It exits by itself once the data dir's state file is gone (the owner stopped the stack normally).
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './paths.ts';
import { sleep } from './processes.ts';
import { stateFile } from './state.ts';
import { stopStack } from './stack.ts';

const self = fileURLToPath(import.meta.url);

/** Starts the watchdog for `dataDir` on behalf of this process; `remove` deletes the data dir after stopping. */
export function startWatchdog(dataDir: string, remove: boolean): void {
  const args = ['--import', 'tsx', self, String(process.pid), dataDir, ...(remove ? ['--remove'] : [])];
  spawn(process.execPath, args, { cwd: repoRoot, detached: true, stdio: 'ignore' }).unref();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function watch(ownerPid: number, dataDir: string, remove: boolean): Promise<void> {
  // Give the owner time to write the state file, then follow it.
  const grace = Date.now() + 10 * 60_000;
  while (!existsSync(stateFile(dataDir)) && Date.now() < grace && alive(ownerPid)) await sleep(1000);
  while (existsSync(stateFile(dataDir))) {
    if (!alive(ownerPid)) {
      await stopStack(dataDir);
      if (remove) rmSync(dataDir, { recursive: true, force: true });
      return;
    }
    await sleep(1000);
  }
}

if (process.argv[1] === self) {
  const [ownerPid, dataDir, flag] = process.argv.slice(2);
  if (ownerPid === undefined || dataDir === undefined) {
    console.error('usage: watchdog.ts <ownerPid> <dataDir> [--remove]');
    process.exitCode = 2;
  } else {
    await watch(Number(ownerPid), dataDir, flag === '--remove');
  }
}
