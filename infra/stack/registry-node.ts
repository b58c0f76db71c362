// The schema registry (Apicurio, Confluent-compatible API) started through infra/registry/start-command.sh,
// which execs java in the foreground: the pid we record is the JVM's. Storage is Kafka (kafkasql).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';
import type { ProcessRecord } from './processes.ts';
import { isAlive, sleep, spawnDetached, tailFile } from './processes.ts';
import { StackError } from './stack-error.ts';

export interface RegistryNodeOptions {
  dataDir: string;
  cacheDir: string;
  registryPort: number;
  brokers: string;
}

export const registryUrlFor = (port: number): string => `http://127.0.0.1:${port}/apis/ccompat/v7`;

const startCommand = join(repoRoot, 'infra', 'registry', 'start-command.sh');

/** Spawns the registry detached; does not wait for it. */
export async function startRegistryNode(opts: RegistryNodeOptions): Promise<ProcessRecord> {
  if (!existsSync(startCommand)) {
    throw new StackError(
      'registry',
      `${startCommand} is missing. To fix: update your checkout (infra/registry/ provides it).`,
    );
  }
  const dir = join(opts.dataDir, 'registry');
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(opts.dataDir, 'logs'), { recursive: true });
  return spawnDetached({
    component: 'registry',
    command: startCommand,
    // H2 file storage in the data dir, not kafkasql: Apicurio's kafkasql start races the creation of its
    // own topics (UnknownTopicOrPartition, seen in CI-like runs) and takes 3x longer to come up.
    args: [String(opts.registryPort), dir, 'none', opts.cacheDir],
    cwd: dir,
    logFile: join(opts.dataDir, 'logs', 'registry.log'),
  });
}

/** GET <registryUrl>/subjects; true on 200. */
export async function registryAnswers(registryUrl: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(`${registryUrl}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Resolves once `/subjects` answers 200; fails fast if the process dies, with its log. */
export async function waitForRegistry(
  record: ProcessRecord,
  registryUrl: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(record)) {
      throw new StackError(
        'registry',
        `the schema registry (pid ${record.pid}) exited while starting. Last lines of ${record.logFile}:\n${tailFile(record.logFile)}`,
      );
    }
    if (await registryAnswers(registryUrl)) return;
    await sleep(250);
  }
  throw new StackError(
    'registry',
    `the schema registry did not answer ${registryUrl}/subjects with 200 within ${Math.round(timeoutMs / 1000)} s. ` +
      `Last lines of ${record.logFile}:\n${tailFile(record.logFile)}`,
  );
}
