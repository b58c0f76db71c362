// `tributary top` as a process over a real embedded store: one frame from a stopped sink's data directory,
// frames every interval through a running query endpoint until SIGTERM (exit 0), the same through the
// endpoint as a ClickHouse server (TRIBUTARY_CLICKHOUSE_URL), and what it says when there is no store.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../runtime/index.ts';
import { lockOwner } from '../../connectors/clickhouse/data-dir-lock.ts';
import { chdbExecutor } from '../../connectors/clickhouse/query/chdb-executor.ts';
import { startQueryEndpoint } from '../../connectors/clickhouse/query/http-endpoint.ts';
import type { QueryEndpoint } from '../../connectors/clickhouse/query/http-endpoint.ts';
import { MINUTE_MS, healthStore } from '../testing/health-store.ts';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const T0 = Date.UTC(2026, 11, 2, 3, 0, 0);
const PREFIX = 'demo-x.';

interface Run {
  code: number | null;
  out: string;
}

/** Runs `tributary top …` with stdout piped; `until` (when given) sends SIGTERM once the output matches. */
function top(args: string[], env: Record<string, string>, until?: (out: string) => boolean): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'top', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '', TRIBUTARY_QUERY_PORT: '-1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (chunk: Buffer): void => {
    out += chunk.toString();
    if (until?.(out) === true) child.kill('SIGTERM');
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((done) => child.once('exit', (code) => done({ code, out })));
}

const stats = ['checkout', 'search'].flatMap((service) =>
  Array.from({ length: 5 }, (_, m) => ({
    topic: `${PREFIX}stats.1m`,
    service,
    windowStartMs: T0 + m * MINUTE_MS,
    requests: 600,
    errors5xx: m === 4 && service === 'checkout' ? 60 : 0,
    latencies: [20, 30, 40],
    latencySloMs: 250,
    availabilitySlo: 0.999,
  })),
);
const alerts = [
  {
    topic: `${PREFIX}alerts`,
    alertId: 'e1',
    state: 'FIRING' as const,
    service: 'checkout',
    atMs: T0 + 4 * MINUTE_MS,
  },
];

let dataDir = '';
let endpoint: QueryEndpoint | undefined;
const scratch: string[] = [];

beforeAll(async () => {
  dataDir = await healthStore(stats, alerts);
});

afterAll(async () => {
  await endpoint?.close();
  for (const dir of [dirname(dataDir), ...scratch]) rmSync(dir, { recursive: true, force: true });
});

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}

const frames = (out: string): number => out.split('\n').filter((l) => l.startsWith('tributary top')).length;

describe('tributary top', () => {
  it('prints one frame of the stored data with --once, piped: no escape codes, says the sink is stopped', async () => {
    const run = await top(['--once', '--minutes', '5', '--prefix', PREFIX], {
      TRIBUTARY_CLICKHOUSE_DATA_DIR: dataDir,
    });
    expect(run.code, run.out).toBe(0);
    expect(run.out).not.toContain('\x1b[');
    expect(run.out).toMatch(/^checkout +█████ +10 +▁▁▁▁█ +10\.0%✗ +≤0\.10% 1✗ +▂▂▂▂▂ +30 +≤250/m);
    expect(run.out).toContain(
      'alerts firing now: 1\n  checkout HighErrorRatio (error_ratio) since 03:04 UTC, e1',
    );
    expect(run.out).toContain('the ClickHouse sink is not running');
    expect(run.out).toContain('./tributary start');
  });

  it('says what to start when the store holds no stats, and exits 1', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tributary-top-empty-'));
    scratch.push(empty);
    const run = await top(['--once'], { TRIBUTARY_CLICKHOUSE_DATA_DIR: join(empty, 'clickhouse') });
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain('no request_stats_1m table yet');
    expect(run.out).toContain('start the pipeline (./tributary start)');
  });

  it('names the server it cannot reach and what to do, and exits 1', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await top(['--once'], { TRIBUTARY_CLICKHOUSE_URL: url });
    expect(run.code, run.out).toBe(1);
    expect(run.out).toContain(`cannot reach the ClickHouse server at ${url} (ECONNREFUSED)`);
    expect(run.out).toContain('unset TRIBUTARY_CLICKHOUSE_URL');
  });

  it('with the sink stopped, reads the data directory once and then waits without holding it', async () => {
    let ownerWhileWaiting: unknown = 'not checked';
    const run = await top(
      ['--interval', '1', '--minutes', '5', '--prefix', PREFIX],
      { TRIBUTARY_CLICKHOUSE_DATA_DIR: dataDir },
      (out) => {
        if (frames(out) < 2 || !out.endsWith('\n\n')) return false;
        ownerWhileWaiting = lockOwner(dataDir);
        return true;
      },
    );
    expect(run.code, run.out).toBe(0);
    expect(run.out.match(/^checkout +█████ /gm)?.length).toBe(frames(run.out));
    expect(run.out).toContain('the stored data above');
    expect(run.out).toContain('waiting for it');
    expect(ownerWhileWaiting).toBeUndefined();
  });

  it('redraws through the running endpoint every interval and exits 0 on SIGTERM', async () => {
    endpoint = await startQueryEndpoint({
      host: '127.0.0.1',
      port: 0,
      executor: chdbExecutor(dataDir, true),
      readOnly: true,
      version: 'test',
      log: createLogger({ name: 'test', level: 'silent', pretty: false }),
    });
    const env = { TRIBUTARY_CLICKHOUSE_DATA_DIR: dataDir, TRIBUTARY_QUERY_PORT: String(endpoint.port) };
    const run = await top(
      ['--interval', '1', '--minutes', '5', '--prefix', PREFIX],
      env,
      (out) => frames(out) >= 2 && out.endsWith('\n\n'),
    );
    expect(run.code, run.out).toBe(0);
    expect(frames(run.out)).toBeGreaterThanOrEqual(2);
    expect(run.out.match(/^checkout +█████ /gm)?.length).toBe(frames(run.out));
    expect(run.out).not.toContain('not running');
  });

  it('reads a ClickHouse server the same way (the endpoint as TRIBUTARY_CLICKHOUSE_URL), prefix from the env', async () => {
    const url = endpoint?.url ?? '';
    const env = { TRIBUTARY_CLICKHOUSE_URL: url, TRIBUTARY_TOPIC_PREFIX: PREFIX };
    const run = await top(['--once', '--minutes', '5'], env);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/^search +█████ +10 +▁▁▁▁▁ +0\.00% /m);
  });

  it('refuses a prefix no topic can have (exit 2, before reading anything)', async () => {
    const run = await top(['--once', '--prefix', "x' OR 1=1"], {
      TRIBUTARY_CLICKHOUSE_URL: endpoint?.url ?? '',
    });
    expect(run.code, run.out).toBe(2);
    expect(run.out).toContain('--prefix needs the topic prefix of the run');
  });
});
