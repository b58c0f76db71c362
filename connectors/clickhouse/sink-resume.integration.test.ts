// The sink's resume after a crash, a reassignment and a truncated table, with copies of the sink in
// this process over the real broker, registry and embedded ClickHouse (connectors/clickhouse/testing/
// sink-harness.ts). A crash is a copy whose connector stops at a chosen point and whose clients close
// without a commit; the state it leaves is the one a SIGKILL at that point leaves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { TributaryError, createLogger } from '../../runtime/index.ts';
import type { SinkConnector, SinkWriteRequest, StatsMinute } from '../../runtime/index.ts';
import {
  AvroEncoder,
  HttpSchemaRegistry,
  SCHEMAS_DIR,
  loadSchemas,
  registerSchemas,
  valueSubject,
} from '../../runtime/serde/index.ts';
import type { TestRecord } from '../../runtime/testing/kafka-test-kit.ts';
import {
  createTopics,
  deleteTopicsWithPrefix,
  produceRecords,
  readTopic,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../runtime/testing/kafka-test-kit.ts';
import { openClickHouse } from './connection.ts';
import type { ClickHouseHandle } from './connection.ts';
import { migrate } from './migrations.ts';
import { startSinkCopy, wrapConnector } from './testing/sink-harness.ts';
import { CommitOutlivesTimeout } from '../../runtime/testing/commit-outlives-timeout.ts';
import {
  CommittedOffsetsUnavailable,
  eventually,
} from '../../runtime/testing/committed-offsets-unavailable.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const workDir = mkdtempSync(join(tmpdir(), 'tributary-resume-'));
const PARTITIONS = 2;
// Either side of a month boundary: requests is PARTITION BY toYYYYMM(ts), so each insert is two parts.
const JAN_31 = Date.UTC(2026, 0, 31, 23, 0);
const FEB_1 = Date.UTC(2026, 1, 1, 1, 0);
let handle: ClickHouseHandle;

beforeAll(async () => {
  const settings = { clickhouseUser: 'default', clickhousePassword: '', clickhouseDatabase: 'default' };
  handle = openClickHouse({ ...settings, clickhouseDataDir: join(workDir, 'ch') }, 'resume-test');
  await migrate(handle.client, log);
});

afterAll(async () => {
  await handle.close();
  rmSync(workDir, { recursive: true, force: true });
  await deleteTopicsWithPrefix(brokers, 't-resume-');
});

async function topicsFor(prefix: string): Promise<void> {
  const names = ['requests.valid', 'requests.dlq', 'stats.1m', 'clickhouse-sink.dlq'];
  await createTopics(
    brokers,
    names.map((t) => ({ name: prefix + t, partitions: PARTITIONS, cleanupPolicy: 'delete' as const })),
  );
}

/** An encoder for `record` values on `topic`, its schema registered under the topic's subject. */
async function avroEncoderFor(topic: string, record: string): Promise<AvroEncoder<Record<string, unknown>>> {
  const schema = loadSchemas(SCHEMAS_DIR).get(record);
  if (schema === undefined) throw new TributaryError('TRIBUTARY_SCHEMA_INVALID', `no ${record} schema`);
  const ids = await registerSchemas(new HttpSchemaRegistry(registryUrl), [
    { subject: valueSubject(topic), schema },
  ]);
  return new AvroEncoder<Record<string, unknown>>(ids.get(valueSubject(topic)) ?? 0, schema.type);
}

/** Partition i % 2 gets both months, so each per-partition insert spans the boundary. */
const monthOf = (i: number): number => (Math.floor(i / PARTITIONS) % 2 === 0 ? JAN_31 : FEB_1);

/** `count` valid RequestEvents on requests.valid; each partition's alternate 31 January and 1 February. */
async function produceEvents(
  prefix: string,
  count: number,
  tag: string,
  statusOf: (i: number) => number = () => 200,
): Promise<void> {
  const topic = `${prefix}requests.valid`;
  const encoder = await avroEncoderFor(topic, 'RequestEvent');
  const records: TestRecord[] = Array.from({ length: count }, (_, i) => {
    const ts = monthOf(i);
    const value = {
      event_id: `${tag}-${i}`,
      ts,
      service: 'svc',
      endpoint: '/x',
      method: 'GET',
      status: statusOf(i),
      latency_ms: 1.5,
      bytes_out: 10,
      customer_id: 'c',
      region: 'eu',
      ingested_at: ts,
    };
    return { key: `${tag}-${i}`, value: encoder.encode(value), partition: i % PARTITIONS };
  });
  await produceRecords(brokers, topic, records);
}

/** `count` StatsMinute rows on stats.1m (service = tag, endpoint = its number), months alternating as above. */
async function produceStats(prefix: string, count: number, tag: string): Promise<void> {
  const topic = `${prefix}stats.1m`;
  const encoder = await avroEncoderFor(topic, 'StatsMinute');
  const records: TestRecord[] = Array.from({ length: count }, (_, i) => {
    const value: StatsMinute = {
      service: tag,
      endpoint: `/e/${i}`,
      region: 'eu',
      window_start: monthOf(i),
      window_end: monthOf(i) + 60_000,
      revision: i % 3,
      requests: 3,
      status_1xx: 0,
      status_2xx: 2,
      status_3xx: 0,
      status_4xx: 0,
      status_5xx: 1,
      latency_count: 3,
      latency_sum_ms: 3.5,
      latency_min_ms: 0,
      latency_max_ms: 2,
      bytes_out: 30,
      sketch_relative_accuracy: 0.01,
      sketch_zero_count: 1,
      sketch_bucket_index: [20, 35],
      sketch_bucket_count: [1, 1],
      service_rows: 1,
      team: null,
      tier: null,
      latency_slo_ms: null,
      availability_slo: null,
    };
    return { key: tag, value: encoder.encode({ ...value }), partition: i % PARTITIONS };
  });
  await produceRecords(brokers, topic, records);
}

async function counts(tag: string): Promise<string> {
  const result = await handle.client.query({
    query: `SELECT count() AS rows, uniqExact(event_id) AS ids FROM requests WHERE startsWith(event_id, {tag:String})`,
    query_params: { tag: `${tag}-` },
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ rows: string; ids: string }>();
  return `${row?.rows ?? 0}/${row?.ids ?? 0}`;
}

const copyOf = (prefix: string, instanceId: string) => ({ brokers, registryUrl, prefix, handle, instanceId });

async function caughtUp(prefix: string, topic = 'requests.valid'): Promise<void> {
  await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}${topic}`, 120_000);
}

/** A connector that lands only the January part of the first insert into `target` spanning both months, then dies. */
function crashingBetweenMonths(
  target: string,
  month = '2026-01-31',
): {
  wrap: (real: SinkConnector) => SinkConnector;
  crashed: () => boolean;
} {
  let crashed = false;
  const wrap = (real: SinkConnector): SinkConnector =>
    wrapConnector(real, {
      write: async (request: SinkWriteRequest) => {
        const january = request.rows.filter((row) => String(row.data).includes(month));
        if (crashed || request.target !== target || january.length === request.rows.length)
          return real.write(request);
        crashed = true;
        // One part of this insert, as ClickHouse commits it: under the insert's token.
        await real.write({ target, rows: january, dedupToken: request.dedupToken });
        throw new TributaryError('TRIBUTARY_SINK_WRITE_FAILED', 'crashed between the two parts');
      },
    });
  return { wrap, crashed: () => crashed };
}

describe('the ClickHouse sink resuming (real broker, registry, embedded ClickHouse)', () => {
  // Either protocol: the same insert repeated under its token, or (single writer) the missing rows written;
  // and an upgrade, the crash under one insert per partition and the restart as a single writer.
  const protocols = [
    { crashedAs: false, restartedAs: false, mode: 'one insert per partition' },
    { crashedAs: true, restartedAs: true, mode: 'one insert per target (single writer)' },
    { crashedAs: false, restartedAs: true, mode: 'crashed per partition, restarted as a single writer' },
  ];
  for (const { crashedAs, restartedAs, mode } of protocols)
    it(`loses no rows after a crash that left only one month part of an insert spanning two months: ${mode}`, async () => {
      const prefix = uniquePrefix('resume');
      const tag = `${prefix}crash`;
      await topicsFor(prefix);
      await produceEvents(prefix, 2000, tag);
      // ClickHouse committed the January part, then the process died before the February one.
      const crash = crashingBetweenMonths('requests');
      const crashing = await startSinkCopy({
        ...copyOf(prefix, '0'),
        singleWriter: crashedAs,
        wrap: crash.wrap,
      });
      await expect(crashing.running).rejects.toThrow('crashed between the two parts');
      await crashing.close();
      const restarted = await startSinkCopy({ ...copyOf(prefix, '0'), singleWriter: restartedAs });
      await caughtUp(prefix);
      await restarted.stop();
      expect({ crashed: crash.crashed(), counts: await counts(tag) }).toEqual({
        crashed: true,
        counts: '2000/2000',
      });
    });

  for (const singleWriter of [false, true]) {
    const mode = singleWriter ? 'one insert per target (single writer)' : 'one insert per partition';
    it(`lands every stats.1m row in request_stats_1m exactly once after the same crash: ${mode}`, async () => {
      const prefix = uniquePrefix('resume');
      const tag = `${prefix}stats`;
      await topicsFor(prefix);
      await produceStats(prefix, 600, tag);
      const crash = crashingBetweenMonths('request_stats_1m');
      const crashing = await startSinkCopy({ ...copyOf(prefix, '0'), singleWriter, wrap: crash.wrap });
      await expect(crashing.running).rejects.toThrow('crashed between the two parts');
      await crashing.close();
      const restarted = await startSinkCopy({ ...copyOf(prefix, '0'), singleWriter });
      await caughtUp(prefix, 'stats.1m');
      await restarted.stop();
      const result = await handle.client.query({
        query: `SELECT count() AS rows, uniqExact(_partition, _offset) AS offsets, sum(requests) AS requests,
          sum(arraySum(mapValues(latency_sketch))) AS bucketed
        FROM request_stats_1m WHERE service = {tag:String}`,
        query_params: { tag },
        format: 'JSONEachRow',
      });
      const [row] = await result.json<Record<string, string | number>>();
      const stored = Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]));
      expect({ crashed: crash.crashed(), ...stored }).toEqual({
        crashed: true,
        rows: 600,
        offsets: 600,
        requests: 1800,
        bucketed: 1200,
      });
    });
  }

  it('with a single writer, writes each target in one insert across source partitions, exactly once', async () => {
    const prefix = uniquePrefix('resume');
    const tag = `${prefix}group`;
    await topicsFor(prefix);
    await produceEvents(prefix, 3000, tag);
    // Partitions per insert into requests, by the insert's token.
    const inserts = new Map<string, number>();
    const wrap = (real: SinkConnector): SinkConnector =>
      wrapConnector(real, {
        write: (request: SinkWriteRequest) => {
          if (request.target === 'requests')
            inserts.set(request.dedupToken, new Set(request.rows.map((row) => row.partition)).size);
          return real.write(request);
        },
      });
    const copy = await startSinkCopy({ ...copyOf(prefix, '0'), singleWriter: true, wrap });
    await caughtUp(prefix);
    await copy.stop();
    const ledger = await handle.client.query({
      query: `SELECT token, count() AS entries FROM tributary_sink_ledger
        WHERE topic = {topic:String} AND state = 'intent' GROUP BY token`,
      query_params: { topic: `${prefix}requests.valid` },
      format: 'JSONEachRow',
    });
    const entries = await ledger.json<{ token: string; entries: string }>();
    expect({
      counts: await counts(tag),
      bothPartitionsInOneInsert: [...inserts.values()].includes(PARTITIONS),
      // Each partition has its own ledger entry, under the token of the insert that carried it.
      entriesPerToken: Object.fromEntries(entries.map((e) => [e.token, Number(e.entries)])),
    }).toEqual({
      counts: '3000/3000',
      bothPartitionsInOneInsert: true,
      entriesPerToken: Object.fromEntries(inserts),
    });
  });

  it('does not re-send dead letters on reassignment when a partition ended in dead letters', async () => {
    const prefix = uniquePrefix('resume');
    await topicsFor(prefix);
    await produceEvents(prefix, 100, `${prefix}dl`);
    const garbage: TestRecord[] = Array.from({ length: 5 }, (_, i) => ({
      key: `g${i}`,
      value: `not avro ${i}`,
      partition: 0,
    }));
    await produceRecords(brokers, `${prefix}requests.valid`, garbage);
    for (const instance of ['0', '1', '0']) {
      const copy = await startSinkCopy(copyOf(prefix, instance));
      await caughtUp(prefix);
      await copy.stop();
    }
    const deadLetters = await readTopic(brokers, `${prefix}requests.dlq`, PARTITIONS);
    expect(deadLetters).toHaveLength(5);
  });

  // Regression (issue 9, the broker-SIGSTOP fault case and sink-broker-outage in CI): a copy retrying the
  // read of the committed offsets never consumed, so librdkafka never handed it the revoke of a lost
  // session; it kept retrying for the dead assignment and the group never rebalanced around it.
  it('serves rebalances while the committed offsets cannot be read: a copy that joins meanwhile gets partitions', async () => {
    const prefix = uniquePrefix('resume');
    const tag = `${prefix}coord`;
    await topicsFor(prefix);
    await produceEvents(prefix, 1000, tag);
    let stuck: CommittedOffsetsUnavailable | undefined;
    const first = await startSinkCopy({
      ...copyOf(prefix, '0'),
      consumer: (settings) => (stuck = new CommittedOffsetsUnavailable(settings)),
    });
    await eventually(() => (stuck?.failedReads ?? 0) > 0, 30_000, 'the first copy reads committed offsets');
    const second = await startSinkCopy(copyOf(prefix, '1'));
    try {
      await eventually(
        () => second.consumer.assignment.length > 0,
        40_000,
        'the joining copy gets partitions while the first cannot read committed offsets',
      );
    } finally {
      stuck?.makeAvailable();
    }
    await caughtUp(prefix);
    await first.stop();
    await second.stop();
    expect(await counts(tag)).toBe('1000/1000');
  });

  // Issue 9 finding 9: the store's refusals are in the ledger's done entry, so a copy that died between
  // the insert and the commit leaves the next owner what it needs to dead-letter the row, once.
  for (const singleWriter of [false, true])
    it(`dead-letters a row only ClickHouse refuses exactly once when the copy died between the insert and the commit${singleWriter ? ' (single writer)' : ''}`, async () => {
      const prefix = uniquePrefix('resume');
      const tag = `${prefix}refused`;
      await topicsFor(prefix);
      // The sink's own checks pass status 418; only the table's constraint refuses it (VIOLATED_CONSTRAINT).
      await handle.client.command({
        query: 'ALTER TABLE requests ADD CONSTRAINT no_teapots CHECK status != 418',
      });
      onTestFinished(async () => {
        await handle.client.command({ query: 'ALTER TABLE requests DROP CONSTRAINT no_teapots' });
      });
      await produceEvents(prefix, 200, tag, (i) => (i === 101 ? 418 : 200));
      let crashed = false;
      const crashing = await startSinkCopy({
        ...copyOf(prefix, '0'),
        singleWriter,
        wrap: (real) =>
          wrapConnector(real, {
            recordBatches: async (state, writer, entries) => {
              await real.recordBatches(state, writer, entries);
              if (crashed || state !== 'done' || !entries.some((entry) => entry.rejected.length > 0)) return;
              crashed = true;
              throw new TributaryError(
                'TRIBUTARY_SINK_WRITE_FAILED',
                'died after the insert, before the commit',
              );
            },
          }),
      });
      await expect(crashing.running).rejects.toThrow('died after the insert');
      await crashing.close();
      const restarted = await startSinkCopy({ ...copyOf(prefix, '0'), singleWriter });
      await caughtUp(prefix);
      await restarted.stop();
      const deadLetters = await readTopic(brokers, `${prefix}requests.dlq`, PARTITIONS);
      expect({ crashed, rows: await counts(tag), deadLetters: deadLetters.map((d) => d.key) }).toEqual({
        crashed: true,
        rows: '199/199',
        deadLetters: [`${tag}-101`],
      });
    });

  // Regression (issue 9, the broker-SIGKILL fault case): a commit resumed across a broker restart met a
  // transaction the coordinator had timed out; the fence stopped the sink though no twin existed.
  it('resumes from what the store holds when the coordinator fenced a commit on its transaction timeout', async () => {
    const prefix = uniquePrefix('resume');
    const tag = `${prefix}fence`;
    await topicsFor(prefix);
    // One row the sink dead-letters (a status no UInt16 holds), so the fenced commit carried a dead
    // letter: it is sent once.
    await produceEvents(prefix, 1000, tag, (i) => (i === 7 ? -5 : 200));
    let producer: CommitOutlivesTimeout | undefined;
    const copy = await startSinkCopy({
      ...copyOf(prefix, '0'),
      maxBatchRows: 200,
      transactionTimeoutMs: 3000,
      // Held past the 3 s timeout and the broker's 10 s sweep of timed-out transactions.
      producer: (settings, options) => (producer = new CommitOutlivesTimeout(settings, options, 1, 16_000)),
    });
    const stopped = copy.running.then(() => {
      throw new Error('the sink loop returned');
    });
    await Promise.race([caughtUp(prefix), stopped]);
    await copy.stop();
    const deadLetters = await readTopic(brokers, `${prefix}requests.dlq`, PARTITIONS);
    expect({
      heldCommit: producer?.heldCommitError,
      rows: await counts(tag),
      deadLetters: deadLetters.map((d) => d.key),
    }).toEqual({ heldCommit: 'TRIBUTARY_KAFKA_FENCED', rows: '999/999', deadLetters: [`${tag}-7`] });
  });

  it('refills a target table that was truncated', async () => {
    const prefix = uniquePrefix('resume');
    const tag = `${prefix}trunc`;
    await topicsFor(prefix);
    await produceEvents(prefix, 500, tag);
    const first = await startSinkCopy(copyOf(prefix, '0'));
    await caughtUp(prefix);
    await first.stop();
    expect(await counts(tag)).toBe('500/500');
    await handle.client.command({ query: 'TRUNCATE TABLE requests' });
    const second = await startSinkCopy(copyOf(prefix, '0'));
    const deadline = Date.now() + 60_000;
    while ((await counts(tag)) !== '500/500' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    await second.stop();
    expect(await counts(tag)).toBe('500/500');
  });

  it('writes no row twice when a partition moves to a second copy while the first has an insert in flight (server mode)', async () => {
    const prefix = uniquePrefix('resume');
    const tag = `${prefix}move`;
    await topicsFor(prefix);
    await produceEvents(prefix, 1000, tag);
    const lease = { insertLeaseMs: 6000 };
    let inFlight: () => void = () => undefined;
    const insertStarted = new Promise<void>((resolve) => (inFlight = resolve));
    let delayed = false;
    const first = await startSinkCopy({
      ...copyOf(prefix, '0'),
      ...lease,
      wrap: (real) =>
        wrapConnector(real, {
          // The server is still executing this insert when the partitions move.
          write: async (request: SinkWriteRequest) => {
            if (!delayed && request.target === 'requests') {
              delayed = true;
              inFlight();
              await new Promise((resolve) => setTimeout(resolve, 2500));
            }
            return real.write(request);
          },
        }),
    });
    await insertStarted;
    const second = await startSinkCopy({ ...copyOf(prefix, '1'), ...lease });
    await caughtUp(prefix);
    await Promise.all([first.stop(), second.stop()]);
    expect(await counts(tag)).toBe('1000/1000');
  });

  it('writes no row twice when the insert of a dead copy lands after the new owner wrote the range again (server mode)', async () => {
    // The server finishes an insert whose client was SIGKILLed whenever it likes: after the lease, after
    // the new owner read what the table holds. The new owner must write that range again as the same
    // insert (offsets and token) so the server drops whichever lands second, whatever its own batch size.
    const prefix = uniquePrefix('resume');
    const tag = `${prefix}late`;
    await topicsFor(prefix);
    await produceEvents(prefix, 1000, tag);
    let landLate: () => Promise<void> = () => Promise.resolve();
    const dead = await startSinkCopy({
      ...copyOf(prefix, '0'),
      insertLeaseMs: 500,
      maxBatchRows: 1000,
      wrap: (real) =>
        wrapConnector(real, {
          write: (request: SinkWriteRequest) => {
            if (request.target !== 'requests') return real.write(request);
            landLate = () => real.write(request);
            return Promise.reject(new TributaryError('TRIBUTARY_SINK_WRITE_FAILED', 'killed mid-insert'));
          },
        }),
    });
    await expect(dead.running).rejects.toThrow('killed mid-insert');
    await dead.close();
    const owner = await startSinkCopy({ ...copyOf(prefix, '1'), insertLeaseMs: 500, maxBatchRows: 150 });
    await caughtUp(prefix);
    await landLate();
    await owner.stop();
    expect(await counts(tag)).toBe('1000/1000');
  });
});
