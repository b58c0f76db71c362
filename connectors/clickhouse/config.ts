// The ClickHouse sink's own config keys (env TRIBUTARY_<KEY>), beside the runtime and batching keys.
import { z } from 'zod';

export const clickhouseConfigShape = {
  clickhouseUrl: z
    .url()
    .optional()
    .describe('a ClickHouse server, e.g. http://127.0.0.1:8123; unset = embedded chdb (the default)'),
  clickhouseUser: z.string().default('default').describe('user for CLICKHOUSE_URL'),
  clickhousePassword: z.string().default('').describe('password for CLICKHOUSE_URL'),
  clickhouseDatabase: z.string().default('default').describe('database holding the tables (server mode)'),
  clickhouseDataDir: z
    .string()
    .min(1)
    .default('.tributary/clickhouse')
    .describe('embedded mode: the data directory (one process owns it at a time)'),
  queryHost: z
    .string()
    .default('127.0.0.1')
    .describe('embedded mode: address of the read-only query endpoint'),
  queryPort: z
    .number()
    .int()
    .min(-1)
    .max(65535)
    .default(8123)
    .describe(
      'embedded mode: port of the ClickHouse-compatible read-only HTTP endpoint; 0 = any free, -1 = none',
    ),
};

export type ClickHouseSettings = {
  clickhouseUrl?: string | undefined;
  clickhouseUser: string;
  clickhousePassword: string;
  clickhouseDatabase: string;
  clickhouseDataDir: string;
};
