// The whole pipeline against the load generator's ground truth, judged by the reconciler: 200,000
// events through ingest (two copies, a third added mid-run) and the ClickHouse sink, every process
// SIGKILLed once at a random moment and restarted. Then the reconciler must notice planted faults.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openClickHouse, selectRows } from '../../connectors/clickhouse/index.ts';
import type { ResultsSettings } from '../../connectors/clickhouse/index.ts';
import { processEnv } from '../../infra/pipeline/processor-process.ts';
import { findFreePort } from '../../infra/stack/stack.ts';
import {
  generatorOptionsSchema,
  reconcileClickHouse,
  reconcileIngestTopics,
  runLoadgen,
} from '../../loadgen/index.ts';
import type { Truth } from '../../loadgen/index.ts';
import { waitForGroupCaughtUp } from '../../runtime/kafka/index.ts';
import { deleteTopicsWithPrefix, uniquePrefix } from '../../runtime/testing/kafka-test-kit.ts';
import { ProcessorCopy } from './processor-copy.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const PARTITIONS = 6;
const workDir = mkdtempSync(join(tmpdir(), 'tributary-pipeline-'));
const prefix = uniquePrefix('pipeline');
const clickhouse: ResultsSettings = {
  clickhouseDataDir: join(workDir, 'clickhouse'),
  clickhouseUser: 'default',
  clickhousePassword: '',
  clickhouseDatabase: 'default',
  queryPort: 0,
};
const select = async (sql: string): Promise<unknown[][]> => (await selectRows(sql, clickhouse)).data;
let truth: Truth | undefined;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function env(instanceId: string, extra: Record<string, string> = {}): Record<string, string> {
  return processEnv(
    { brokers, registryUrl, prefix, stateDir: join(workDir, 'state') },
    { TRIBUTARY_INSTANCE_ID: instanceId, TRIBUTARY_DEFAULT_PARTITIONS: String(PARTITIONS), ...extra },
  );
}

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, prefix);
});

describe('the pipeline end to end, reconciled with the ground truth', () => {
  it('is exact after 200,000 events with copies added and every process SIGKILLed once', async () => {
    const sinkPort = await findFreePort();
    clickhouse.queryPort = sinkPort;
    const sinkEnv = env('0', {
      TRIBUTARY_CLICKHOUSE_DATA_DIR: clickhouse.clickhouseDataDir,
      TRIBUTARY_QUERY_PORT: String(sinkPort),
    });
    const copies = [
      new ProcessorCopy('ingest', env('0'), join(workDir, 'ingest-0.log')),
      new ProcessorCopy('ingest', env('1'), join(workDir, 'ingest-1.log')),
      new ProcessorCopy('sink', sinkEnv, join(workDir, 'sink.log')),
    ];
    const generator = generatorOptionsSchema.parse({
      seed: 11,
      count: 200_000,
      rate: 20_000,
      startMs: Date.now(),
    });
    const loading = runLoadgen({
      brokers,
      topicPrefix: prefix,
      partitions: PARTITIONS,
      generator,
      runsDir: join(workDir, 'runs'),
      progress: false,
    });

    // Faults while events arrive: a copy joins, then each process dies once at a random moment.
    await sleep(1500 + Math.random() * 1000);
    copies.push(new ProcessorCopy('ingest', env('2'), join(workDir, 'ingest-2.log')));
    for (const copy of [copies[0], copies[2], copies[3]]) {
      await sleep(1000 + Math.random() * 1500);
      await copy?.killAndRestart();
    }
    truth = (await loading).truth;
    await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`);
    for (const topic of ['requests.valid', 'requests.dlq'])
      await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}${topic}`);

    const topics = await reconcileIngestTopics({
      brokers,
      registryUrl,
      topicPrefix: prefix,
      partitions: PARTITIONS,
      truth,
    });
    expect(topics.checks.filter((c) => !c.ok)).toEqual([]);
    const result = await reconcileClickHouse(truth, select);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.cells).toEqual([]);
    expect(result.ok).toBe(true);

    const exits = await Promise.all(copies.map((c) => c.stop()));
    expect(exits).toEqual(exits.map(() => 0));
  });

  it('notices a planted fault: one row deleted and another duplicated', async () => {
    expect(truth).toBeDefined();
    if (truth === undefined) return;
    const [[deleted] = [], [duplicated] = []] = await select(
      `SELECT event_id FROM (SELECT event_id, service FROM requests WHERE _topic = '${prefix}requests.valid' ORDER BY event_id LIMIT 1 BY service) LIMIT 2`,
    );
    // The sink has stopped, so the test may own the data directory and write to it.
    const handle = openClickHouse(clickhouse, 'planting faults');
    try {
      await handle.client.command({
        query: `ALTER TABLE requests DELETE WHERE event_id = '${String(deleted)}' SETTINGS mutations_sync = 2`,
      });
      await handle.client.command({
        query: `INSERT INTO requests SELECT * FROM requests WHERE event_id = '${String(duplicated)}'`,
      });
    } finally {
      await handle.close();
    }
    const result = await reconcileClickHouse(truth, select);
    expect(result.ok).toBe(false);
    expect(result.checks.find((c) => c.check === 'distinct event ids in requests')?.actual).toBe(
      truth.valid_events - 1,
    );
    const requestCells = result.cells.filter((c) => c.field === 'requests');
    expect(requestCells.map((c) => c.actual - c.expected).sort()).toEqual([-1, 1]);
  });
});
