// The state file `stack.json` in the data dir: what was started, on which ports, with which pids.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessRecord } from './processes.ts';

export interface StackState {
  version: 1;
  dataDir: string;
  brokers: string;
  registryUrl: string;
  kafkaPort: number;
  controllerPort: number;
  registryPort: number;
  startedAt: string;
  /** Absent until the process is spawned. */
  kafka?: ProcessRecord;
  registry?: ProcessRecord;
}

export const stateFile = (dataDir: string): string => join(dataDir, 'stack.json');

export function readState(dataDir: string): StackState | undefined {
  const file = stateFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as StackState;
    return state.version === 1 ? state : undefined;
  } catch {
    return undefined; // a torn or foreign file: treated as no state (the pids in it cannot be trusted)
  }
}

export function writeState(state: StackState): void {
  const file = stateFile(state.dataDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function removeState(dataDir: string): void {
  rmSync(stateFile(dataDir), { force: true });
}
