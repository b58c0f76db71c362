// Versioned schema changes: migrations/NNN-name.sql applied in order at start, each recorded in
// tributary_migrations (version, name, checksum). A failing one stops the sink with what failed and why.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { TributaryError, describeError } from '../../runtime/index.ts';
import type { Logger } from '../../runtime/index.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
export const MIGRATIONS_TABLE = 'tributary_migrations';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

const FILE_NAME = /^(\d{3})-([a-z0-9-]+)\.sql$/;

/** Splits a file into statements at semicolons that end a line; `--` comment lines are dropped. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file): Migration => {
      const match = FILE_NAME.exec(file);
      if (match === null)
        throw new TributaryError(
          'TRIBUTARY_CLICKHOUSE_MIGRATION_FAILED',
          `migration file ${file} is not named NNN-name.sql`,
        );
      const text = readFileSync(`${dir}/${file}`, 'utf8');
      return {
        version: Number(match[1]),
        name: file,
        statements: splitStatements(text),
        checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
      };
    })
    .sort((a, b) => a.version - b.version);
  const versions = new Set(migrations.map((m) => m.version));
  if (versions.size !== migrations.length)
    throw new TributaryError(
      'TRIBUTARY_CLICKHOUSE_MIGRATION_FAILED',
      `two migrations in ${dir} share a version`,
    );
  return migrations;
}

async function appliedVersions(client: ClickHouseClient): Promise<Map<number, string>> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version UInt32, name String, checksum String,
      applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) ENGINE = MergeTree ORDER BY version`,
  });
  const result = await client.query({
    query: `SELECT version, any(checksum) AS checksum FROM ${MIGRATIONS_TABLE} GROUP BY version`,
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ version: number; checksum: string }>();
  return new Map(rows.map((row) => [Number(row.version), row.checksum]));
}

/** Applies the migrations not yet recorded; returns the names applied now. */
export async function migrate(
  client: ClickHouseClient,
  log: Logger,
  migrations: readonly Migration[] = loadMigrations(),
): Promise<string[]> {
  let applied: Map<number, string>;
  try {
    applied = await appliedVersions(client);
  } catch (error) {
    throw failed(`reading ${MIGRATIONS_TABLE}`, error);
  }
  const done: string[] = [];
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum !== undefined) {
      if (checksum !== migration.checksum)
        log.warn(
          { migration: migration.name },
          'an applied migration file has changed since; not re-applied',
        );
      continue;
    }
    for (const [index, statement] of migration.statements.entries()) {
      try {
        await client.command({ query: statement });
      } catch (error) {
        throw failed(`migration ${migration.name}, statement ${index + 1}`, error);
      }
    }
    await client.insert({
      table: MIGRATIONS_TABLE,
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
      columns: ['version', 'name', 'checksum'],
    });
    log.info({ migration: migration.name }, 'applied migration');
    done.push(migration.name);
  }
  return done;
}

function failed(what: string, error: unknown): TributaryError {
  return new TributaryError(
    'TRIBUTARY_CLICKHOUSE_MIGRATION_FAILED',
    `${what} failed: ${describeError(error)}. Fix the migration (or the database) and start the sink again; ` +
      'migrations before it stay applied.',
    { cause: error },
  );
}
