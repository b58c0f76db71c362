// The ClickHouse sink's exactly-once promise with real processes: ingest and the sink run as OS
// processes, the sink is SIGKILLed three times (once while an insert is in flight), and ClickHouse ends
// up with exactly one row per valid event and per dead letter, with no FINAL and no OPTIMIZE.
import { mkdtempSync } from 'node:fs';
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
import {
  baseEnv,
  createPipelineTopics,
  freePort,
  httpQuery,
  killWhileInsertInFlight,
  rawEvents,
  sleep,
  waitFor,
} from './sink-support.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const PARTITIONS = 6;
const EVENTS = 200_000;
const workDir = mkdtempSync(join(tmpdir(), 'tributary-sink-'));

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, 't-sink-');
});

describe('clickhouse sink as a real OS process (embedded chdb)', () => {
  it('holds exactly the valid events and dead letters after three SIGKILLs, one during an insert', async () => {
    const prefix = uniquePrefix('sink');
    const env = baseEnv(brokers, registryUrl, prefix, join(workDir, 'state'));
    await createPipelineTopics(brokers, prefix, PARTITIONS);
    const load = rawEvents(EVENTS, 50, prefix);
    const [httpPort = 0, queryPort = 0] = [await freePort(), await freePort()];
    const sinkEnv = {
      ...env,
      TRIBUTARY_HTTP_PORT: String(httpPort),
      TRIBUTARY_QUERY_PORT: String(queryPort),
      TRIBUTARY_CLICKHOUSE_DATA_DIR: join(workDir, 'clickhouse'),
      TRIBUTARY_MAX_BATCH_ROWS: '20000',
    };
    const ingest = startProcessor('ingest', env, join(workDir, 'ingest.log'));
    const sinkLog = join(workDir, 'sink.log');
    let sink = startProcessor('sink', sinkEnv, sinkLog);
    const producing = (async () => {
      for (let i = 0; i < load.records.length; i += 20_000) {
        await produceRecords(brokers, prefix + 'requests.raw', load.records.slice(i, i + 20_000));
        await sleep(700);
      }
    })();
    const duringInsert: boolean[] = [];
    for (let kill = 0; kill < 3; kill++) {
      await sleep(2500 + Math.floor(Math.random() * 2500));
      if (kill === 2) duringInsert.push(await killWhileInsertInFlight(() => sink.kill('SIGKILL'), httpPort));
      else sink.kill('SIGKILL');
      expect((await sink.exited).signal).toBe('SIGKILL');
      sink = startProcessor('sink', sinkEnv, sinkLog);
    }
    await producing;
    await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`);
    await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}requests.valid`);
    await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}requests.dlq`);
    const url = `http://127.0.0.1:${queryPort}`;
    const counts = await waitFor('the endpoint', 30_000, () =>
      httpQuery(url, 'SELECT count(), uniqExact(event_id) FROM requests'),
    );
    const dead = await httpQuery(url, 'SELECT count(), uniqExact(_partition, _offset) FROM dead_letters');
    expect({ counts, dead, duringInsert }).toEqual({
      counts: `${load.valid}\t${load.valid}`,
      dead: `${load.invalid}\t${load.invalid}`,
      duringInsert: [true],
    });
    sink.kill('SIGTERM');
    ingest.kill('SIGTERM');
    expect((await sink.exited).code).toBe(0);
    expect((await ingest.exited).code).toBe(0);
  });
});
