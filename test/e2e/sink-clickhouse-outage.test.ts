// A ClickHouse outage in server mode (CLICKHOUSE_URL): the server is SIGKILLed while the sink has an
// insert in flight and events keep arriving. The sink stays up, answers /readyz 503 with the store's
// problem, retries the same rows with the same deduplication token, and once the server is back on the
// same port and data directory, ClickHouse holds exactly one row per valid event and per dead letter.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  deleteTopicsWithPrefix,
  produceRecords,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../runtime/testing/kafka-test-kit.ts';
import { startProcessor } from '../../infra/pipeline/processor-process.ts';
import type { ProcessorProcess } from '../../infra/pipeline/processor-process.ts';
import {
  baseEnv,
  createPipelineTopics,
  killWhileInsertInFlight,
  freePort,
  httpQuery,
  metric,
  rawEvents,
  sleep,
  startLocalServer,
  waitFor,
} from './sink-support.ts';
import type { ServerProcess } from './sink-support.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const PARTITIONS = 4;
const EVENTS = 60_000;
const OUTAGE_MS = 8_000;
const workDir = mkdtempSync(join(tmpdir(), 'tributary-sink-outage-'));
const running: Array<ProcessorProcess | ServerProcess> = [];
let passed = false;

afterAll(async () => {
  for (const process of running) process.kill('SIGKILL');
  await deleteTopicsWithPrefix(brokers, 't-outage-');
  // Kept when the test fails: the server's, the sink's and ingest's logs are in it.
  if (passed) rmSync(workDir, { recursive: true, force: true });
  else console.log(`logs kept in ${workDir}`);
});

async function readyz(port: number): Promise<{ status: number; reason: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  const body = (await response.json()) as { reason?: string };
  return { status: response.status, reason: body.reason ?? '' };
}

/** SIGKILLs the server as soon as the sink has an insert in flight; false if none was seen in time. */
describe('clickhouse sink in server mode (CLICKHOUSE_URL) through a server outage', () => {
  it('pauses while the server is down, stays alive, and then holds every row exactly once', async () => {
    const prefix = uniquePrefix('outage');
    const env = baseEnv(brokers, registryUrl, prefix, join(workDir, 'state'));
    await createPipelineTopics(brokers, prefix, PARTITIONS);
    const load = rawEvents(EVENTS, 40, prefix);
    const [serverPort = 0, httpPort = 0] = [await freePort(), await freePort()];
    const dataDir = join(workDir, 'clickhouse');
    const serverLog = join(workDir, 'server.log');
    let server = await startLocalServer(dataDir, serverPort, serverLog);
    running.push(server);
    const ingest = startProcessor('ingest', env, join(workDir, 'ingest.log'));
    const sink = startProcessor(
      'sink',
      {
        ...env,
        TRIBUTARY_HTTP_PORT: String(httpPort),
        TRIBUTARY_CLICKHOUSE_URL: `http://127.0.0.1:${serverPort}`,
        TRIBUTARY_MAX_BATCH_ROWS: '5000',
        TRIBUTARY_MAX_RETRY_BACKOFF_MS: '1000',
        // One copy: a short insert lease keeps the start (claim, then wait it out) quick.
        TRIBUTARY_CLICKHOUSE_INSERT_LEASE_MS: '4000',
      },
      join(workDir, 'sink.log'),
    );
    running.push(ingest, sink);
    const producing = (async () => {
      for (let i = 0; i < load.records.length; i += 5_000) {
        await produceRecords(brokers, prefix + 'requests.raw', load.records.slice(i, i + 5_000));
        await sleep(600);
      }
    })();
    const url = `http://127.0.0.1:${serverPort}`;
    await waitFor('the first rows', 30_000, async () =>
      Number(await httpQuery(url, 'SELECT count() FROM requests')) > 0 ? true : undefined,
    );

    const killedDuringInsert = await killWhileInsertInFlight(() => server.kill('SIGKILL'), httpPort);
    expect((await server.exited).signal).toBe('SIGKILL');
    const down = await waitFor('/readyz to report the store', 15_000, async () => {
      const answer = await readyz(httpPort);
      return answer.reason.includes('store unavailable') ? answer : undefined;
    });
    await sleep(OUTAGE_MS);
    const retries = (await metric(httpPort, 'tributary_sink_write_retries_total')) ?? 0;
    const stillDown = await readyz(httpPort);
    const aliveDuringOutage = sink.child.exitCode === null && sink.child.signalCode === null;

    server = await startLocalServer(dataDir, serverPort, serverLog);
    running.push(server);
    await producing;
    await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`);
    await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}requests.valid`);
    await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}requests.dlq`);
    const counts = await httpQuery(url, 'SELECT count(), uniqExact(event_id) FROM requests');
    const dead = await httpQuery(url, 'SELECT count(), uniqExact(_partition, _offset) FROM dead_letters');
    const recovered = await waitFor('/readyz ready again', 30_000, async () =>
      (await readyz(httpPort)).status === 200 ? true : undefined,
    );
    expect({
      killedDuringInsert,
      down: down.status,
      stillDown: stillDown.status,
      retried: retries > 0,
      aliveDuringOutage,
      recovered,
      counts,
      dead,
    }).toEqual({
      killedDuringInsert: true,
      down: 503,
      stillDown: 503,
      retried: true,
      aliveDuringOutage: true,
      recovered: true,
      counts: `${load.valid}\t${load.valid}`,
      dead: `${load.invalid}\t${load.invalid}`,
    });
    sink.kill('SIGTERM');
    ingest.kill('SIGTERM');
    server.kill('SIGTERM');
    expect((await sink.exited).code).toBe(0);
    expect((await ingest.exited).code).toBe(0);
    expect((await server.exited).code).toBe(0);
    passed = true;
  });
});
