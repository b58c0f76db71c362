// Migration 006 on a real embedded engine: the sink's row encoder writes AlertEvents (enum state, labels
// as a Map, text that needs escaping) into `alerts` and reads them back exactly; alerts_firing_now holds
// the episodes whose FIRING has no RESOLVED; a state or label the table cannot hold is a ValidationError.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError, avro, createLogger } from '../../runtime/index.ts';
import type { AlertEvent, SinkRecord } from '../../runtime/index.ts';
import { alertEvent } from '../notifier/testing/alert-events.ts';
import { openClickHouse } from './connection.ts';
import { migrate } from './migrations.ts';
import { describeTable } from './tables.ts';
import type { TargetTable } from './tables.ts';

const workDir = mkdtempSync(join(tmpdir(), 'tributary-alerts-'));
const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const handle = openClickHouse(
  {
    clickhouseUser: 'default',
    clickhousePassword: '',
    clickhouseDatabase: 'default',
    clickhouseDataDir: join(workDir, 'clickhouse'),
  },
  'alerts-test',
);

afterAll(async () => {
  await handle.close();
  rmSync(workDir, { recursive: true, force: true });
});

function record(offset: number, value: AlertEvent): SinkRecord {
  const binding = { topic: 'alerts', value: avro('AlertEvent'), target: 'alerts' };
  return { binding, topic: 'alerts', partition: 0, offset, timestamp: 0, value: { ...value } };
}

async function insert(table: TargetTable, events: readonly AlertEvent[]): Promise<void> {
  const lines = events.map((event, offset) => table.encodeRow(record(offset, event)));
  await handle.client.insert({
    table: 'alerts',
    values: Readable.from([Buffer.from(`${lines.join('\n')}\n`)], { objectMode: false }),
    format: 'TabSeparated',
    columns: table.columns as [string, ...string[]],
  });
}

async function select(query: string): Promise<unknown[]> {
  return (await handle.client.query({ query, format: 'JSONEachRow' })).json();
}

describe('migration 006: the alerts table and alerts_firing_now', () => {
  it('holds every edge as sent, labels and enum included, and lists the episodes firing now', async () => {
    await migrate(handle.client, log);
    const table = await describeTable(handle.client, 'default', 'alerts');
    const tricky = { ...alertEvent(0, 'FIRING'), summary: "it's\tbad \\ now\n" };
    tricky.labels = { ...tricky.labels, note: "quote ' tab \t brace {}:," };
    const resolved = alertEvent(0, 'RESOLVED');
    const open = alertEvent(1, 'FIRING', 'payments');
    await insert(table, [tricky, resolved, open]);

    const rows = await select(
      `SELECT alert_id, state, summary, labels, toUnixTimestamp64Milli(episode_start) AS start,
        toUnixTimestamp64Milli(at) AS edge FROM alerts ORDER BY service, at`,
    );
    expect(rows).toEqual(
      [tricky, resolved, open].map((e) => ({
        alert_id: e.alert_id,
        state: e.state,
        summary: e.summary,
        labels: e.labels,
        start: e.episode_start,
        edge: e.at,
      })),
    );
    expect(await select('SELECT alert_id, service, fired_at FROM alerts_firing_now')).toEqual([
      {
        alert_id: open.alert_id,
        service: 'payments',
        fired_at: new Date(open.at).toISOString().replace('T', ' ').replace('Z', ''),
      },
    ]);
  });

  it('refuses a state outside the enum and a label that is not a string, as a dead letter would', async () => {
    const table = await describeTable(handle.client, 'default', 'alerts');
    const badState = { ...alertEvent(2, 'FIRING'), state: 'PENDING' } as unknown as AlertEvent;
    expect(() => table.encodeRow(record(9, badState))).toThrow(ValidationError);
    expect(() => table.encodeRow(record(9, badState))).toThrow(/state: string "PENDING" is not in Enum8/);
    const badLabel = { ...alertEvent(2, 'FIRING'), labels: { n: 1 } } as unknown as AlertEvent;
    expect(() => table.encodeRow(record(9, badLabel))).toThrow(/labels\[n\]/);
  });
});
