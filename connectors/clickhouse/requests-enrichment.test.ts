// The enrichment columns of `requests` on a real embedded engine: a row written before the migration
// keeps its values and reads them as NULL; after it, the sink's row encoder writes an EnrichedRequest
// with them set and a plain RequestEvent (requests.valid) with them NULL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { avro, createLogger } from '../../runtime/index.ts';
import type { SinkRecord } from '../../runtime/index.ts';
import type { EnrichedRequest, RequestEvent } from '../../runtime/contracts/index.ts';
import { openClickHouse } from './connection.ts';
import { loadMigrations, migrate } from './migrations.ts';
import { describeTable } from './tables.ts';

const workDir = mkdtempSync(join(tmpdir(), 'tributary-enrichment-'));
const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const handle = openClickHouse(
  {
    clickhouseUser: 'default',
    clickhousePassword: '',
    clickhouseDatabase: 'default',
    clickhouseDataDir: join(workDir, 'clickhouse'),
  },
  'enrichment-test',
);

afterAll(async () => {
  await handle.close();
  rmSync(workDir, { recursive: true, force: true });
});

const TS = Date.UTC(2026, 11, 1, 12, 0, 0);
const event = (id: string): RequestEvent => ({
  event_id: id,
  ts: TS,
  service: 'checkout',
  endpoint: '/x',
  method: 'GET',
  status: 200,
  latency_ms: 1.5,
  bytes_out: 10,
  customer_id: 'c-1',
  region: 'eu-west-1',
  ingested_at: TS,
});

function record(topic: string, offset: number, value: RequestEvent | EnrichedRequest): SinkRecord {
  const binding = { topic, value: avro('EnrichedRequest'), target: 'requests' };
  return { binding, topic, partition: 0, offset, timestamp: TS, value: { ...value } };
}

describe('migration 004: enrichment columns of requests', () => {
  it('keeps old rows (new columns NULL) and writes enriched and plain rows', async () => {
    const all = loadMigrations();
    await migrate(
      handle.client,
      log,
      all.filter((m) => m.version < 4),
    );
    await handle.client.command({
      query: `INSERT INTO requests (event_id, ts, service, endpoint, method, status, latency_ms, bytes_out,
        customer_id, region, ingested_at, _topic, _partition, _offset)
        VALUES ('old', now64(3), 'checkout', '/x', 'GET', 200, 1, 1, 'c-1', 'eu', now64(3), 'requests.valid', 0, 0)`,
    });
    await migrate(handle.client, log, all);

    const table = await describeTable(handle.client, 'default', 'requests');
    const enriched: EnrichedRequest = {
      ...event('new'),
      team: 'payments',
      tier: 1,
      latency_slo_ms: 250,
      availability_slo: 0.999,
      plan: null,
      account_region: null,
      service_miss: null,
      customer_miss: 'deleted',
    };
    const lines = [
      table.encodeRow(record('requests.enriched', 0, enriched)),
      table.encodeRow(record('requests.valid', 1, event('plain'))),
    ];
    await handle.client.insert({
      table: 'requests',
      values: Readable.from([Buffer.from(`${lines.join('\n')}\n`)], { objectMode: false }),
      format: 'TabSeparated',
      columns: table.columns as [string, ...string[]],
    });
    const result = await handle.client.query({
      query: `SELECT event_id, team, tier, latency_slo_ms, availability_slo, plan, customer_miss
        FROM requests ORDER BY event_id`,
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([
      {
        event_id: 'new',
        team: 'payments',
        tier: 1,
        latency_slo_ms: 250,
        availability_slo: 0.999,
        plan: null,
        customer_miss: 'deleted',
      },
      {
        event_id: 'old',
        team: null,
        tier: null,
        latency_slo_ms: null,
        availability_slo: null,
        plan: null,
        customer_miss: null,
      },
      {
        event_id: 'plain',
        team: null,
        tier: null,
        latency_slo_ms: null,
        availability_slo: null,
        plan: null,
        customer_miss: null,
      },
    ]);
  });
});
