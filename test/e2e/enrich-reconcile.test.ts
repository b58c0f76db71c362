// ingest → enrich → ClickHouse sink against the ground truth, with the run's reference data changing
// over event time (a service's latency SLO, a customer's plan, a customer deleted, a service with no
// record): ClickHouse per (team, tier, plan, minute) must equal the truth exactly, and the SLO must
// flip at the change's time, while enrich is SIGKILLed twice and a second copy joins mid-run. A
// restarted copy must never say ready before its tables are fully loaded.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { selectRows } from '../../connectors/clickhouse/index.ts';
import type { ResultsSettings } from '../../connectors/clickhouse/index.ts';
import { processEnv, startProcessor } from '../../infra/pipeline/processor-process.ts';
import type { ProcessorProcess } from '../../infra/pipeline/processor-process.ts';
import { findFreePort } from '../../infra/stack/stack.ts';
import {
  buildFleet,
  generatorOptionsSchema,
  loadReferenceData,
  reconcileEnriched,
  referenceTimeline,
  runLoadgen,
} from '../../loadgen/index.ts';
import { waitForGroupCaughtUp } from '../../runtime/kafka/index.ts';
import { HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import { deleteTopicsWithPrefix, uniquePrefix } from '../../runtime/testing/kafka-test-kit.ts';
import { sleep } from './sink-support.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const PARTITIONS = 4;
const CUSTOMERS = 20_000;
const workDir = mkdtempSync(join(tmpdir(), 'tributary-enrich-'));
const prefix = uniquePrefix('enrich');
const clickhouse: ResultsSettings = {
  clickhouseDataDir: join(workDir, 'clickhouse'),
  clickhouseUser: 'default',
  clickhousePassword: '',
  clickhouseDatabase: 'default',
  queryPort: 0,
};
const select = async (sql: string): Promise<unknown[][]> => (await selectRows(sql, clickhouse)).data;

function env(instanceId: string, extra: Record<string, string> = {}): Record<string, string> {
  return processEnv(
    { brokers, registryUrl, prefix, stateDir: join(workDir, 'state') },
    { TRIBUTARY_INSTANCE_ID: instanceId, TRIBUTARY_DEFAULT_PARTITIONS: String(PARTITIONS), ...extra },
  );
}

interface ReadySample {
  ready: boolean;
  reason: string;
  customers: number | undefined;
}

/** /readyz and the customers table's entries, sampled together until the copy is ready. */
async function sampleUntilReady(port: number, timeoutMs: number): Promise<ReadySample[]> {
  const samples: ReadySample[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      const reason = await response.text();
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const line = metrics.split('\n').find((l) => l.startsWith('tributary_table_entries{table="customers"'));
      const customers = line === undefined ? undefined : Number(line.split(' ').pop());
      samples.push({ ready: response.ok, reason, customers });
      if (response.ok) return samples;
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  throw new Error(`copy on port ${port} not ready in ${timeoutMs} ms: ${JSON.stringify(samples.slice(-3))}`);
}

class EnrichCopy {
  process: ProcessorProcess;
  constructor(
    readonly id: string,
    readonly port: number,
  ) {
    this.process = this.start();
  }
  private start(): ProcessorProcess {
    const environment = env(this.id, { TRIBUTARY_HTTP_PORT: String(this.port) });
    return startProcessor('enrich', environment, join(workDir, `enrich-${this.id}.log`));
  }
  async killAndRestart(): Promise<ReadySample[]> {
    this.process.kill('SIGKILL');
    expect((await this.process.exited).signal).toBe('SIGKILL');
    this.process = this.start();
    return sampleUntilReady(this.port, 60_000);
  }
  async stop(): Promise<number | null> {
    this.process.kill('SIGTERM');
    return (await this.process.exited).code;
  }
}

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, prefix);
});

describe('enrich end to end', () => {
  it('is exact per (team, tier, plan, minute) across reference changes, two SIGKILLs and a copy added', async () => {
    const generator = generatorOptionsSchema.parse({
      seed: 21,
      count: 60_000,
      rate: 10_000,
      customers: CUSTOMERS,
      startMs: Date.now(),
    });
    const fleet = buildFleet(generator);
    const timeline = referenceTimeline(fleet, generator);
    await loadReferenceData({
      brokers,
      registry: new HttpSchemaRegistry(registryUrl),
      topicPrefix: prefix,
      fleet: generator,
      timeline,
    });
    const sinkPort = await findFreePort();
    clickhouse.queryPort = sinkPort;
    const sinkEnv = env('0', {
      TRIBUTARY_CLICKHOUSE_DATA_DIR: clickhouse.clickhouseDataDir,
      TRIBUTARY_QUERY_PORT: String(sinkPort),
    });
    const ingest = startProcessor('ingest', env('0'), join(workDir, 'ingest.log'));
    const sink = startProcessor('sink', sinkEnv, join(workDir, 'sink.log'));
    const enrich = [new EnrichCopy('0', await findFreePort())];
    await sampleUntilReady(enrich[0]?.port ?? 0, 90_000);

    const loading = runLoadgen({
      brokers,
      topicPrefix: prefix,
      partitions: PARTITIONS,
      generator,
      runsDir: join(workDir, 'runs'),
      progress: false,
    });
    await sleep(1500 + Math.random() * 1000);
    const restarts = [await enrich[0]?.killAndRestart()];
    enrich.push(new EnrichCopy('1', await findFreePort()));
    await sleep(1000 + Math.random() * 1500);
    restarts.push(await enrich[0]?.killAndRestart());
    const truth = (await loading).truth;

    // A restarted copy answers not-ready while loading, and is never ready with a partial table.
    const liveCustomers = CUSTOMERS - 1; // one is deleted (its newest version is a tombstone)
    for (const samples of restarts) {
      expect(samples?.[0]?.ready).toBe(false);
      expect(samples?.some((s) => s.reason.includes('loading reference tables'))).toBe(true);
      expect(samples?.filter((s) => s.ready).map((s) => s.customers)).toEqual([liveCustomers]);
    }

    await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`);
    await waitForGroupCaughtUp(brokers, `${prefix}enrich`, `${prefix}requests.valid`);
    await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}requests.enriched`);

    const result = await reconcileEnriched(truth, select);
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.cells).toEqual([]);
    // The cells include every kind of miss and the plan change and deletion.
    const cells = truth.enriched_1m ?? [];
    expect(cells.some((c) => c.team === null)).toBe(true);
    expect(cells.some((c) => c.plan === null)).toBe(true);

    // Events on both sides of the SLO change got the SLO valid at their own ts.
    const slo = timeline.changes.find((c) => c.change === 'latency_slo_ms');
    expect(slo).toBeDefined();
    const sides = await select(
      `SELECT ts >= fromUnixTimestamp64Milli(${slo?.at_ms ?? 0}) AS after, groupUniqArray(latency_slo_ms), count()
       FROM requests WHERE _topic = '${prefix}requests.enriched' AND service = '${slo?.key ?? ''}'
       GROUP BY after ORDER BY after`,
    );
    expect(sides.map((r) => [Number(r[0]), r[1]])).toEqual([
      [0, [slo?.from]],
      [1, [slo?.to]],
    ]);

    const exits = await Promise.all([...enrich.map((c) => c.stop())]);
    ingest.kill('SIGTERM');
    sink.kill('SIGTERM');
    expect([...exits, (await ingest.exited).code, (await sink.exited).code]).toEqual([0, 0, 0, 0]);
  });
});
