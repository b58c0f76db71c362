// Several sink copies sharing the partitions of one ClickHouse server (CLICKHOUSE_URL), as a user scales the
// sink (issue 15, "Scale on a ClickHouse server"; issue 9 finding 4): two copies split the partitions, one is
// SIGKILLed with an insert in flight and its partitions move to the other, then a third copy joins and takes
// some back. Rebalances with inserts in flight are where copies could write a range twice; ClickHouse must
// hold exactly one row per valid event and per dead letter, without FINAL.
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
  freePort,
  httpQuery,
  killWhileInsertInFlight,
  rawEvents,
  sleep,
  startLocalServer,
  waitFor,
} from './sink-support.ts';
import type { ServerProcess } from './sink-support.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const PARTITIONS = 6;
const EVENTS = 60_000;
const workDir = mkdtempSync(join(tmpdir(), 'tributary-sink-copies-'));
const running: Array<ProcessorProcess | ServerProcess> = [];
let passed = false;

afterAll(async () => {
  for (const process of running) process.kill('SIGKILL');
  await deleteTopicsWithPrefix(brokers, 't-copies-');
  if (passed) rmSync(workDir, { recursive: true, force: true });
  else console.log(`logs kept in ${workDir}`);
});

describe('sink copies sharing a ClickHouse server', () => {
  it('two copies, one SIGKILLed mid-insert, a third joining: every row exactly once', async () => {
    const prefix = uniquePrefix('copies');
    const env = baseEnv(brokers, registryUrl, prefix, join(workDir, 'state'));
    await createPipelineTopics(brokers, prefix, PARTITIONS);
    const load = rawEvents(EVENTS, 40, prefix);
    const serverPort = await freePort();
    const url = `http://127.0.0.1:${serverPort}`;
    const server = await startLocalServer(
      join(workDir, 'clickhouse'),
      serverPort,
      join(workDir, 'server.log'),
    );
    running.push(server);
    const startSink = async (instance: string): Promise<{ copy: ProcessorProcess; httpPort: number }> => {
      const httpPort = await freePort();
      const copy = startProcessor(
        'sink',
        {
          ...env,
          TRIBUTARY_INSTANCE_ID: instance,
          TRIBUTARY_HTTP_PORT: String(httpPort),
          TRIBUTARY_CLICKHOUSE_URL: url,
          TRIBUTARY_MAX_BATCH_ROWS: '3000',
          TRIBUTARY_CLICKHOUSE_INSERT_LEASE_MS: '4000',
        },
        join(workDir, `sink-${instance}.log`),
      );
      running.push(copy);
      return { copy, httpPort };
    };
    const ingest = startProcessor(
      'ingest',
      { ...env, TRIBUTARY_INSTANCE_ID: '0' },
      join(workDir, 'ingest.log'),
    );
    running.push(ingest);
    const first = await startSink('0');
    const second = await startSink('1');
    const producing = (async () => {
      for (let i = 0; i < load.records.length; i += 4_000) {
        await produceRecords(brokers, prefix + 'requests.raw', load.records.slice(i, i + 4_000));
        await sleep(700);
      }
    })();
    await waitFor('the first rows', 90_000, async () =>
      Number(await httpQuery(url, 'SELECT count() FROM requests')) > 0 ? true : undefined,
    );
    const killedDuringInsert = await killWhileInsertInFlight(
      () => first.copy.kill('SIGKILL'),
      first.httpPort,
    );
    expect((await first.copy.exited).signal).toBe('SIGKILL');
    await sleep(8_000); // past the session timeout: the survivor owns every partition, inserts in flight
    const third = await startSink('2');
    await producing;
    await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`);
    await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}requests.valid`);
    await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}requests.dlq`);
    const rows = await httpQuery(
      url,
      'SELECT count(), uniqExact(event_id), uniqExact(_partition, _offset) FROM requests',
    );
    const dead = await httpQuery(url, 'SELECT count(), uniqExact(_partition, _offset) FROM dead_letters');
    expect({ killedDuringInsert, rows, dead }).toEqual({
      killedDuringInsert: true,
      rows: `${load.valid}\t${load.valid}\t${load.valid}`,
      dead: `${load.invalid}\t${load.invalid}`,
    });
    for (const copy of [second.copy, third.copy, ingest]) copy.kill('SIGTERM');
    expect((await second.copy.exited).code).toBe(0);
    expect((await third.copy.exited).code).toBe(0);
    expect((await ingest.exited).code).toBe(0);
    server.kill('SIGTERM');
    passed = true;
  });
});
