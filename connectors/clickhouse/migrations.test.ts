// The migrations runner against a real embedded engine on a temp data directory: files applied in
// version order, once, each recorded; a failing one stops with TRIBUTARY_CLICKHOUSE_MIGRATION_FAILED
// naming its file, and is not recorded.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, isTributaryError } from '../../runtime/index.ts';
import { openClickHouse } from './connection.ts';
import type { ClickHouseHandle } from './connection.ts';
import { MIGRATIONS_TABLE, loadMigrations, migrate, splitStatements } from './migrations.ts';

const workDir = mkdtempSync(join(tmpdir(), 'tributary-migrations-'));
const log = createLogger({ name: 'test', level: 'silent', pretty: false });
let handle: ClickHouseHandle;

beforeAll(() => {
  handle = openClickHouse(
    {
      clickhouseUser: 'default',
      clickhousePassword: '',
      clickhouseDatabase: 'default',
      clickhouseDataDir: join(workDir, 'clickhouse'),
    },
    'migrations-test',
  );
});

afterAll(async () => {
  await handle.close();
  rmSync(workDir, { recursive: true, force: true });
});

/** A migrations folder holding these files. */
function folder(name: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(workDir, `${name}-`));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

describe('splitStatements and loadMigrations', () => {
  it('splits at semicolons ending a line and drops comment lines', () => {
    expect(splitStatements("-- a comment; still\nSELECT 'a;b';\n\nSELECT 2 ;  \n")).toEqual([
      "SELECT 'a;b'",
      'SELECT 2',
    ]);
  });

  it('orders by version and refuses a badly named file or a shared version', () => {
    const dir = folder('load', { '010-b.sql': 'SELECT 1;', '002-a.sql': 'SELECT 2;' });
    expect(loadMigrations(dir).map((m) => [m.version, m.name])).toEqual([
      [2, '002-a.sql'],
      [10, '010-b.sql'],
    ]);
    expect(() => loadMigrations(folder('badname', { '1-x.sql': '' }))).toThrow(/not named NNN-name.sql/);
    expect(() => loadMigrations(folder('dup', { '001-a.sql': '', '001-b.sql': '' }))).toThrow(
      /share a version/,
    );
  });

  it('ships migrations whose tables the sink writes', () => {
    const names = loadMigrations().map((m) => m.name);
    expect(names.slice(0, 2)).toEqual(['001-requests.sql', '002-dead-letters.sql']);
  });
});

describe('migrate', () => {
  // Created out of order on disk; 002 depends on 001's table, so the order matters.
  const dir = folder('apply', {
    '002-add-column.sql': "-- adds a column\nALTER TABLE mig_things ADD COLUMN note String DEFAULT '';\n",
    '001-things.sql': 'CREATE TABLE mig_things (id UInt32) ENGINE = MergeTree ORDER BY id;\n',
  });

  it('applies pending migrations in version order and records each version', async () => {
    expect(await migrate(handle.client, log, loadMigrations(dir))).toEqual([
      '001-things.sql',
      '002-add-column.sql',
    ]);
    const columns = await rows<{ name: string }>(
      handle.client,
      "SELECT name FROM system.columns WHERE table = 'mig_things' ORDER BY position",
    );
    expect(columns.map((c) => c.name)).toEqual(['id', 'note']);
    const recorded = await rows<{ version: number; name: string }>(
      handle.client,
      `SELECT version, name FROM ${MIGRATIONS_TABLE} ORDER BY version`,
    );
    expect(recorded).toEqual([
      { version: 1, name: '001-things.sql' },
      { version: 2, name: '002-add-column.sql' },
    ]);
  });

  it('applies nothing twice', async () => {
    expect(await migrate(handle.client, log, loadMigrations(dir))).toEqual([]);
    const [count] = await rows<{ n: string }>(handle.client, `SELECT count() AS n FROM ${MIGRATIONS_TABLE}`);
    expect(Number(count?.n)).toBe(2);
  });

  it('stops at a failing migration with an error naming its file and statement, and does not record it', async () => {
    writeFileSync(join(dir, '003-broken.sql'), 'SELECT 1;\nALTER TABLE mig_nowhere ADD COLUMN x UInt8;\n');
    writeFileSync(join(dir, '004-after.sql'), 'CREATE TABLE mig_after (id UInt8) ENGINE = Memory;\n');
    let failure: unknown;
    try {
      await migrate(handle.client, log, loadMigrations(dir));
    } catch (error) {
      failure = error;
    }
    expect(isTributaryError(failure) && failure.code).toBe('TRIBUTARY_CLICKHOUSE_MIGRATION_FAILED');
    expect(isTributaryError(failure) && failure.retryable).toBe(false);
    expect((failure as Error).message).toMatch(
      /^migration 003-broken\.sql, statement 2 failed: .*mig_nowhere/,
    );
    const recorded = await rows<{ version: number }>(
      handle.client,
      `SELECT version FROM ${MIGRATIONS_TABLE} ORDER BY version`,
    );
    expect(recorded.map((r) => Number(r.version))).toEqual([1, 2]);
    const after = await rows(handle.client, "SELECT name FROM system.tables WHERE name = 'mig_after'");
    expect(after).toEqual([]);
  });
});
