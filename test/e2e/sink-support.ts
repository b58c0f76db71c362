// Helpers for the ClickHouse sink's end-to-end tests: raw events with a known share of bad ones, the
// processes' settings, free ports, metrics and HTTP queries.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { REPO_ROOT, processEnv } from '../../infra/pipeline/processor-process.ts';
import type { TestRecord } from '../../runtime/testing/kafka-test-kit.ts';
import { createTopics } from '../../runtime/testing/kafka-test-kit.ts';

export interface RawLoad {
  records: TestRecord[];
  valid: number;
  invalid: number;
}

/** `count` raw events; every `badEvery`-th is not JSON (ingest dead-letters it as invalid_json). */
export function rawEvents(count: number, badEvery: number, tag: string): RawLoad {
  const now = Date.now();
  const records: TestRecord[] = [];
  let invalid = 0;
  for (let i = 0; i < count; i++) {
    const id = `${tag}-${i}`;
    if (i % badEvery === badEvery - 1) {
      invalid++;
      records.push({ key: id, value: `{"event_id": "${id}", broken` });
      continue;
    }
    const event = {
      event_id: id,
      ts: now - (i % 60_000),
      service: `svc-${i % 7}`,
      endpoint: `/api/items/{id}`,
      method: i % 3 === 0 ? 'POST' : 'GET',
      status: i % 17 === 0 ? 503 : 200,
      latency_ms: (i % 500) + 0.5,
      bytes_out: i % 10_000,
      customer_id: `c-${i % 300}`,
      region: i % 2 === 0 ? 'eu-west-1' : 'us-east-1',
    };
    records.push({ key: id, value: JSON.stringify(event) });
  }
  return { records, valid: count - invalid, invalid };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export function baseEnv(
  brokers: string,
  registryUrl: string,
  prefix: string,
  stateDir: string,
): Record<string, string> {
  return processEnv({ brokers, registryUrl, prefix, stateDir }, { TRIBUTARY_LOG_LEVEL: 'info' });
}

/** The value of a metric (first series) from a /metrics page, or undefined. */
export async function metric(port: number, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(name));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  } catch {
    return undefined;
  }
}

export async function httpQuery(baseUrl: string, sql: string): Promise<string> {
  const response = await fetch(`${baseUrl}/?query=${encodeURIComponent(sql)}`);
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status}: ${text}`);
  return text.trim();
}

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ServerProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

const servers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of servers) child.kill('SIGKILL');
});

/**
 * Starts connectors/clickhouse/testing/local-server.ts (a writable ClickHouse HTTP server over chdb) as
 * its own OS process on `port`, serving `dataDir`; resolves once `/ping` answers.
 */
export async function startLocalServer(
  dataDir: string,
  port: number,
  logFile: string,
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'connectors/clickhouse/testing/local-server.ts', dataDir, String(port)],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  servers.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      servers.delete(child);
      resolve({ code, signal });
    }),
  );
  const server: ServerProcess = {
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  try {
    await waitFor(`the local ClickHouse server on :${port}`, 30_000, async () => {
      if (child.exitCode !== null) throw new Error(`the local server exited with ${child.exitCode}`);
      return (await fetch(`http://127.0.0.1:${port}/ping`)).ok ? true : undefined;
    });
  } catch (error) {
    server.kill('SIGKILL');
    throw error;
  }
  return server;
}

/** Calls `kill` as soon as the sink reports an insert in flight (or after 20 s); true if it caught one. */
export async function killWhileInsertInFlight(kill: () => void, sinkHttpPort: number): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((await metric(sinkHttpPort, 'tributary_sink_writes_in_flight')) === 1) {
      kill();
      return true;
    }
    await sleep(2);
  }
  kill();
  return false;
}

/** The raw, valid and dead-letter topics of one test run. */
export async function createPipelineTopics(
  brokers: string,
  prefix: string,
  partitions: number,
): Promise<void> {
  await createTopics(
    brokers,
    ['requests.raw', 'requests.valid', 'requests.dlq'].map((t) => ({
      name: prefix + t,
      partitions,
      cleanupPolicy: 'delete' as const,
    })),
  );
}
