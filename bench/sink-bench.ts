// The ClickHouse sink's figures, against the stack `bench/run.ts` started:
// - sink_rows_per_s: the sink as a real OS process (embedded chdb) over RequestEvents already in
//   requests.valid, from its first commit to its last (startup, migrations and group join excluded);
// - direct_insert_rows_per_s: the same rows, in batches of the same size, encoded and inserted through
//   the connector's own path (ClickHouseConnector.encode + write) into a fresh chdb data directory, in
//   this process: the engine's ceiling, no Kafka and no Avro;
// - sink_ratio: the first over the second;
// - queryable_latency_p50_ms / _p99_ms: produce-to-queryable at half the measured sink rate, with the
//   sink's default batching (see measureQueryableLatency for the method).
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { clickhouseSink } from '../connectors/clickhouse/clickhouse-sink.ts';
import { openClickHouse } from '../connectors/clickhouse/connection.ts';
import { ClickHouseConnector } from '../connectors/clickhouse/connector.ts';
import { migrate } from '../connectors/clickhouse/migrations.ts';
import { describeTable } from '../connectors/clickhouse/tables.ts';
import { startProcessor } from '../infra/pipeline/processor-process.ts';
import { createLogger, dedupToken } from '../runtime/index.ts';
import type { SinkRow } from '../runtime/index.ts';
import { BulkProducer, ensureTopics, withAdmin } from '../runtime/kafka/index.ts';
import {
  AvroEncoder,
  HttpSchemaRegistry,
  loadSchemas,
  registerSchemas,
  valueSubject,
} from '../runtime/serde/index.ts';
import { findFreePorts } from '../infra/stack/stack.ts';
import { measureProcessor } from './processor-throughput.ts';
import type { RequestEvent } from '../runtime/contracts/index.ts';

export interface SinkBenchOptions {
  brokers: string;
  registryUrl: string;
  workDir: string;
  /** Events for the throughput figures (at least 100 000). Default BENCH_EVENTS, else 200 000. */
  events?: number;
  /** Told what each phase is about to do, and what it measured. */
  progress?: (line: string) => void;
}

const PARTITIONS = 6;
/** Rows per flush for the throughput figures, for the sink and the direct insert alike. */
const BATCH_ROWS = 20_000;
const MIN_EVENTS = 5 * BATCH_ROWS;
const LATENCY_RUN_MS = 10_000;
const TICK_MS = 50;
const POLL_MS = 100;

function requestEvent(id: string, i: number, ts: number): RequestEvent {
  return {
    event_id: id,
    ts,
    service: `svc-${i % 12}`,
    endpoint: `/api/items/{id}`,
    method: i % 3 === 0 ? 'POST' : 'GET',
    status: i % 17 === 0 ? 503 : 200,
    latency_ms: (i % 500) + 0.25,
    bytes_out: (i * 7) % 20_000,
    customer_id: `c-${i % 500}`,
    region: i % 2 === 0 ? 'eu-west-1' : 'us-east-1',
    ingested_at: ts,
  };
}

/** Creates prefix + requests.valid / requests.dlq and returns an encoder for requests.valid. */
async function prepareTopics(options: SinkBenchOptions, prefix: string): Promise<AvroEncoder<RequestEvent>> {
  await withAdmin(options.brokers, (admin) =>
    ensureTopics(
      admin,
      ['requests.valid', 'requests.dlq'].map((t) => ({
        name: prefix + t,
        partitions: PARTITIONS,
        cleanupPolicy: 'delete' as const,
      })),
    ),
  );
  const schema = loadSchemas().get('RequestEvent');
  if (schema === undefined) throw new Error('schemas/ has no RequestEvent');
  const subject = valueSubject(`${prefix}requests.valid`);
  const ids = await registerSchemas(new HttpSchemaRegistry(options.registryUrl), [{ subject, schema }]);
  return new AvroEncoder<RequestEvent>(ids.get(subject) ?? 0, schema.type);
}

async function withProducer<T>(brokers: string, work: (p: BulkProducer<number>) => Promise<T>): Promise<T> {
  let failure: Error | undefined;
  const producer = new BulkProducer<number>(
    { brokers, clientId: 'tributary-sink-bench', lingerMs: 5 },
    (error) => (failure ??= error),
  );
  await producer.connect();
  try {
    const result = await work(producer);
    await producer.close();
    if (failure !== undefined) throw failure;
    return result;
  } catch (error) {
    await producer.close().catch(() => undefined);
    throw error;
  }
}

function sinkEnv(options: SinkBenchOptions, prefix: string, dir: string): Record<string, string> {
  return {
    TRIBUTARY_KAFKA_BROKERS: options.brokers,
    TRIBUTARY_REGISTRY_URL: options.registryUrl,
    TRIBUTARY_TOPIC_PREFIX: prefix,
    TRIBUTARY_STATE_DIR: join(dir, 'state'),
    TRIBUTARY_CLICKHOUSE_DATA_DIR: join(dir, 'clickhouse'),
    TRIBUTARY_LOG_LEVEL: 'warn',
  };
}

export async function benchSink(options: SinkBenchOptions): Promise<Record<string, number>> {
  // At least MIN_EVENTS: the clock starts at the first commit, so the window must hold several flushes.
  const events = Math.max(MIN_EVENTS, options.events ?? Number(process.env['BENCH_EVENTS'] ?? 200_000));
  const say = options.progress ?? (() => undefined);
  const dir = join(options.workDir, 'sink-bench');
  mkdirSync(dir, { recursive: true });
  const prefix = `bench-sink-${randomBytes(3).toString('hex')}.`;
  const encoder = await prepareTopics(options, prefix);
  say(`sink: pre-producing ${events.toLocaleString()} Avro RequestEvents into ${prefix}requests.valid`);
  const now = Date.now();
  const values = Array.from({ length: events }, (_, i) => requestEvent(`bench-${i}`, i, now - (i % 60_000)));
  await withProducer(options.brokers, async (producer) => {
    for (const [i, value] of values.entries()) {
      await producer.produce(`${prefix}requests.valid`, value.event_id, encoder.encode(value), i);
      if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
  });

  mkdirSync(join(dir, 'throughput'), { recursive: true });
  say(`sink: throughput as an OS process (embedded chdb, ${BATCH_ROWS.toLocaleString()} rows per flush)`);
  const sink = await measureProcessor({
    name: 'clickhouse-sink',
    brokers: options.brokers,
    registryUrl: options.registryUrl,
    topicPrefix: prefix,
    inputTopic: 'requests.valid',
    records: events,
    workDir: join(dir, 'throughput'),
    env: {
      ...sinkEnv(options, prefix, join(dir, 'throughput')),
      TRIBUTARY_QUERY_PORT: '-1',
      TRIBUTARY_MAX_BATCH_ROWS: String(BATCH_ROWS),
    },
  });
  say(`sink: ${Math.round(sink.eventsPerS).toLocaleString()} rows/s; now the same rows inserted directly`);
  const direct = await directInsertRowsPerS(values, `${prefix}requests.valid`, join(dir, 'direct'));
  const rate = Math.round(sink.eventsPerS / 2);
  say(
    `sink: direct ${Math.round(direct).toLocaleString()} rows/s; produce-to-queryable at ${rate.toLocaleString()}/s`,
  );
  const latency = await measureQueryableLatency(options, rate, join(dir, 'latency'));
  return {
    sink_rows_per_s: sink.eventsPerS,
    direct_insert_rows_per_s: direct,
    sink_ratio: sink.eventsPerS / direct,
    queryable_latency_p50_ms: latency.p50,
    queryable_latency_p99_ms: latency.p99,
  };
}

/** The same rows through ClickHouseConnector.encode + write, BATCH_ROWS at a time, into a fresh directory. */
async function directInsertRowsPerS(values: RequestEvent[], topic: string, dir: string): Promise<number> {
  const handle = openClickHouse(
    {
      clickhouseUser: 'default',
      clickhousePassword: '',
      clickhouseDatabase: 'default',
      clickhouseDataDir: join(dir, 'clickhouse'),
    },
    'sink-bench',
  );
  const log = createLogger({ name: 'sink-bench', level: 'warn', pretty: false });
  const binding = clickhouseSink.bindings.find((b) => b.target === 'requests');
  if (binding === undefined) throw new Error('the sink has no binding for requests');
  let connector: ClickHouseConnector | undefined;
  try {
    await migrate(handle.client, log);
    const table = await describeTable(handle.client, 'default', 'requests');
    connector = new ClickHouseConnector(handle.client, new Map([['requests', table]]), () => handle.close());
    const offsets = new Array<number>(PARTITIONS).fill(0);
    const startedAt = performance.now();
    for (let from = 0; from < values.length; from += BATCH_ROWS) {
      const rows: SinkRow<string>[] = [];
      for (const [i, value] of values.slice(from, from + BATCH_ROWS).entries()) {
        const partition = (from + i) % PARTITIONS;
        const offset = offsets[partition] ?? 0;
        offsets[partition] = offset + 1;
        rows.push(connector.encode({ binding, topic, partition, offset, timestamp: 0, value: { ...value } }));
      }
      await connector.write({ target: 'requests', rows, dedupToken: dedupToken('requests', rows) });
    }
    return values.length / ((performance.now() - startedAt) / 1000);
  } finally {
    await (connector?.close() ?? handle.close());
  }
}

/**
 * Produce-to-queryable latency. A sink with default batching runs with its query endpoint; events are
 * produced paced at `rate` per second for LATENCY_RUN_MS, in ticks of TICK_MS: every event of a tick
 * carries the tick's produce time (the moment they are handed to the producer, ms, unique per tick) as
 * its `ts`. Every POLL_MS the endpoint is asked how many rows each not yet complete tick has; the rows
 * that appeared since the previous answer were queryable by the time this answer arrived, so each counts
 * with latency (answer time − its ts). The figure is per event, includes Kafka, the sink's batching,
 * the insert and the query itself, and overstates the truth by at most one poll interval.
 */
async function measureQueryableLatency(
  options: SinkBenchOptions,
  rate: number,
  dir: string,
): Promise<{ p50: number; p99: number }> {
  const prefix = `bench-sink-latency-${randomBytes(3).toString('hex')}.`;
  mkdirSync(dir, { recursive: true });
  const encoder = await prepareTopics(options, prefix);
  const [httpPort = 0, queryPort = 0] = await findFreePorts(2);
  const sink = startProcessor(
    'sink',
    {
      ...sinkEnv(options, prefix, dir),
      TRIBUTARY_HTTP_PORT: String(httpPort),
      TRIBUTARY_QUERY_PORT: String(queryPort),
    },
    join(dir, 'sink.log'),
  );
  try {
    await until('the sink to be ready', 60_000, async () => {
      if (sink.child.exitCode !== null) throw new Error(`the sink exited with ${sink.child.exitCode}`);
      return (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.ok === true;
    });
    const ticks = new Map<number, { size: number; seen: number }>();
    const samples: Array<{ latencyMs: number; count: number }> = [];
    let producing = true;
    const polling = pollTicks(`http://127.0.0.1:${queryPort}`, ticks, samples, () => producing);
    const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
    await withProducer(options.brokers, async (producer) => {
      const end = Date.now() + LATENCY_RUN_MS;
      let last = 0;
      for (let tick = 0; Date.now() < end; tick++) {
        const ts = Math.max(Date.now(), last + 1);
        last = ts;
        ticks.set(ts, { size: perTick, seen: 0 });
        for (let i = 0; i < perTick; i++) {
          const value = requestEvent(`lat-${tick}-${i}`, i, ts);
          await producer.produce(`${prefix}requests.valid`, value.event_id, encoder.encode(value), i);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, ts + TICK_MS - Date.now())));
      }
    });
    producing = false;
    await polling;
    return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
  } finally {
    sink.kill('SIGTERM');
    await sink.exited;
  }
}

async function pollTicks(
  url: string,
  ticks: Map<number, { size: number; seen: number }>,
  samples: Array<{ latencyMs: number; count: number }>,
  producing: () => boolean,
): Promise<void> {
  let stoppedAt: number | undefined;
  for (;;) {
    if (!producing()) stoppedAt ??= Date.now();
    const open = [...ticks].filter(([, t]) => t.seen < t.size).map(([ts]) => ts);
    if (open.length === 0 && stoppedAt !== undefined) return;
    if (stoppedAt !== undefined && Date.now() > stoppedAt + 30_000)
      throw new Error(`${open.length} ticks never became queryable`);
    if (open.length > 0) {
      const sql =
        `SELECT toUnixTimestamp64Milli(ts), count() FROM requests ` +
        `WHERE ts >= fromUnixTimestamp64Milli(toInt64(${Math.min(...open)})) GROUP BY 1`;
      const response = await fetch(`${url}/?query=${encodeURIComponent(sql)}`);
      const text = await response.text();
      const answeredAt = Date.now();
      if (!response.ok) throw new Error(`the query endpoint answered ${response.status}: ${text}`);
      for (const line of text.trim().split('\n')) {
        const [ts = '', count = ''] = line.split('\t');
        const tick = ticks.get(Number(ts));
        if (tick === undefined || Number(count) <= tick.seen) continue;
        samples.push({ latencyMs: answeredAt - Number(ts), count: Number(count) - tick.seen });
        tick.seen = Number(count);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The weighted percentile of the samples (each latency counted `count` times). */
function percentile(samples: ReadonlyArray<{ latencyMs: number; count: number }>, q: number): number {
  const sorted = [...samples].sort((a, b) => a.latencyMs - b.latencyMs);
  const total = sorted.reduce((sum, s) => sum + s.count, 0);
  let seen = 0;
  for (const sample of sorted) {
    seen += sample.count;
    if (seen >= q * total) return sample.latencyMs;
  }
  return Number.NaN;
}

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
