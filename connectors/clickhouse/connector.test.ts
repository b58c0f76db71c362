// The connector's ledger, claims and deduplication against real embedded ClickHouse (chdb).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { avro, createLogger, dedupToken } from '../../runtime/index.ts';
import type { LedgerEntry, SinkConnector, SinkPartition, SinkRow } from '../../runtime/index.ts';
import { openClickHouse } from './connection.ts';
import type { ClickHouseHandle } from './connection.ts';
import { ClickHouseConnector } from './connector.ts';
import { migrate } from './migrations.ts';
import { describeTable } from './tables.ts';

const workDir = mkdtempSync(join(tmpdir(), 'tributary-connector-'));
const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const binding = { topic: 'requests.valid', value: avro('RequestEvent'), target: 'requests' };
const JAN_31 = Date.UTC(2026, 0, 31, 23, 0);
const FEB_1 = Date.UTC(2026, 1, 1, 1, 0);
let handle: ClickHouseHandle;
let connector: ClickHouseConnector;

beforeAll(async () => {
  const settings = { clickhouseUser: 'default', clickhousePassword: '', clickhouseDatabase: 'default' };
  handle = openClickHouse({ ...settings, clickhouseDataDir: join(workDir, 'ch') }, 'connector-test');
  await migrate(handle.client, log);
  const tables = new Map([['requests', await describeTable(handle.client, 'default', 'requests')]]);
  connector = new ClickHouseConnector(handle.client, tables, () => Promise.resolve());
});

afterAll(async () => {
  await handle.close();
  rmSync(workDir, { recursive: true, force: true });
});

/** Rows of topic `topic`, partition 0, offsets first..last; even offsets in January, odd in February. */
function rows(sink: SinkConnector<string>, topic: string, first: number, last: number): SinkRow<string>[] {
  const out: SinkRow<string>[] = [];
  for (let offset = first; offset <= last; offset++) {
    const ts = offset % 2 === 0 ? JAN_31 : FEB_1;
    const value = {
      event_id: `${topic}-${offset}`,
      ts,
      service: 'svc',
      endpoint: '/x',
      method: 'GET',
      status: 200,
      latency_ms: 1.5,
      bytes_out: 10,
      customer_id: 'c',
      region: 'eu',
      ingested_at: ts,
    };
    out.push(sink.encode({ binding, topic, partition: 0, offset, timestamp: 0, value }));
  }
  return out;
}

async function count(sql: string): Promise<number> {
  const result = await handle.client.query({ query: sql, format: 'JSONEachRow' });
  const [row] = await result.json<{ n: string }>();
  return Number(row?.n);
}

const write = (target: string, batch: SinkRow<string>[]) =>
  connector.write({ target, rows: batch, dedupToken: dedupToken(target, batch) });

describe('the ClickHouse connector on embedded ClickHouse', () => {
  it('dedups a re-sent two-month insert part by part: the same rows and token fill only the missing month', async () => {
    const batch = rows(connector, 'dedup', 0, 99);
    await write('requests', batch);
    await handle.client.command({ query: `ALTER TABLE requests DROP PARTITION 202602` });
    expect(await count(`SELECT count() AS n FROM requests WHERE _topic = 'dedup'`)).toBe(50);
    await write('requests', batch);
    await write('requests', batch);
    expect(await count(`SELECT count() AS n FROM requests WHERE _topic = 'dedup'`)).toBe(100);
  });

  it('reads the latest done batch, an open intent with the offsets that landed, and refused offsets', async () => {
    const topic = 'ledger';
    const entry = (seq: number, first: number, last: number): LedgerEntry => ({
      target: 'requests',
      topic,
      partition: 0,
      seq,
      firstOffset: first,
      lastOffset: last,
      rows: last - first + 1,
      token: `t${seq}`,
      rejected: [],
    });
    await connector.recordBatches('intent', 'w', [entry(0, 0, 9)]);
    await write('requests', rows(connector, topic, 0, 9));
    await connector.recordBatches('done', 'w', [
      { ...entry(0, 0, 9), rejected: [{ offset: 4, detail: 'bad' }] },
    ]);
    await connector.recordBatches('intent', 'w', [entry(1, 10, 19)]);
    // The crash left only the January part of batch 1: its even offsets.
    await write(
      'requests',
      rows(connector, topic, 10, 19).filter((r) => r.offset % 2 === 0),
    );
    const partition: SinkPartition = { topic, partition: 0, target: 'requests', committed: 0 };
    const held = (await connector.storedPartitions([partition])).get(`${topic}/0`);
    expect(held).toMatchObject({
      lastDone: { seq: 0, firstOffset: 0, lastOffset: 9 },
      open: { seq: 1, firstOffset: 10, lastOffset: 19, token: 't1' },
      tableMax: 18,
      rejected: [{ offset: 4, detail: 'bad' }],
    });
    expect([...(held?.present ?? [])].sort((a, b) => a - b)).toEqual([10, 12, 14, 16, 18]);
    // Refused offsets of batches that end before the committed offset are no longer needed.
    const later = await connector.storedPartitions([{ ...partition, committed: 10 }]);
    expect(later.get(`${topic}/0`)?.rejected).toEqual([]);
  });

  it('lets only the latest claimant of a partition write it (two copies on one ClickHouse)', async () => {
    const tables = new Map([['requests', await describeTable(handle.client, 'default', 'requests')]]);
    const copy = (): ClickHouseConnector =>
      new ClickHouseConnector(handle.client, tables, () => Promise.resolve(), { insertLeaseMs: 50 });
    const [a, b] = [copy(), copy()];
    const p0: SinkPartition = { topic: 'claims', partition: 0, target: 'requests', committed: -1 };
    await a.claim('a', [p0]);
    expect(await a.holdsClaims('a', [p0])).toBe(true);
    const startedAt = Date.now();
    await b.claim('b', [p0]);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(45);
    expect({ a: await a.holdsClaims('a', [p0]), b: await b.holdsClaims('b', [p0]) }).toEqual({
      a: false,
      b: true,
    });
  });
});
