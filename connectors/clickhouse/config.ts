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
  clickhouseCaFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'server mode: CA certificate (PEM) that vouches for an https CLICKHOUSE_URL; unset = the system CAs (host name always verified)',
    ),
  clickhouseCertFile: z
    .string()
    .min(1)
    .optional()
    .describe('server mode: client certificate (PEM) for mutual TLS; needs CLICKHOUSE_KEY_FILE and CA_FILE'),
  clickhouseKeyFile: z
    .string()
    .min(1)
    .optional()
    .describe('server mode: private key (PEM) of CLICKHOUSE_CERT_FILE'),
  clickhouseInsertLeaseMs: z
    .number()
    .int()
    .min(3000)
    .max(600_000)
    .default(30_000)
    .describe(
      'server mode: how long a copy that takes over a partition waits before writing it, in ms; inserts ' +
        "are cancelled by the server after half of it, so a previous owner's insert cannot land later",
    ),
  clickhouseDataDir: z
    .string()
    .min(1)
    .default('.tributary/clickhouse')
    .describe('embedded mode: the data directory (one process owns it at a time)'),
  queryHost: z
    .string()
    .default('127.0.0.1')
    .describe('embedded mode: address of the read-only query endpoint'),
  queryTlsCertFile: z
    .string()
    .min(1)
    .optional()
    .describe('embedded mode: serve the query endpoint over https with this certificate (PEM)'),
  queryTlsKeyFile: z
    .string()
    .min(1)
    .optional()
    .describe('embedded mode: private key (PEM) of QUERY_TLS_CERT_FILE'),
  queryPort: z
    .number()
    .int()
    .min(-1)
    .max(65535)
    .default(8123)
    .describe(
      'embedded mode: port of the ClickHouse-compatible read-only HTTP endpoint; 0 = any free, -1 = none',
    ),
  queryUser: z.string().min(1).default('default').describe('embedded mode: the query endpoint user'),
  queryPassword: z
    .string()
    .default('')
    .describe('embedded mode: the query endpoint password (required to bind beyond loopback)'),
  queryAllowedOrigins: z
    .string()
    .default('')
    .describe(
      'embedded mode: browser origins allowed to query, comma-separated (e.g. http://localhost:3000)',
    ),
  queryMaxExecutionTimeS: z
    .number()
    .int()
    .min(1)
    .default(30)
    .describe('query endpoint: seconds a query may run'),
  queryMaxMemoryBytes: z
    .number()
    .int()
    .min(1 << 20)
    .default(1 << 30)
    .describe('query endpoint: bytes of memory one query may use'),
  queryMaxResultRows: z
    .number()
    .int()
    .min(1)
    .default(1_000_000)
    .describe('query endpoint: rows in one result'),
  queryMaxResultBytes: z
    .number()
    .int()
    .min(1 << 10)
    .default(128 << 20)
    .describe('query endpoint: uncompressed bytes in one result'),
  queryMaxThreads: z.number().int().min(1).default(2).describe('query endpoint: threads one query may use'),
  queryMaxConcurrent: z.number().int().min(1).default(4).describe('query endpoint: queries running at once'),
  queryMaxBodyBytes: z
    .number()
    .int()
    .min(1 << 10)
    .default(1 << 20)
    .describe('query endpoint: largest request body, in bytes'),
};

export type ClickHouseSettings = {
  clickhouseUrl?: string | undefined;
  clickhouseUser: string;
  clickhousePassword: string;
  clickhouseDatabase: string;
  clickhouseDataDir: string;
  clickhouseCaFile?: string | undefined;
  clickhouseCertFile?: string | undefined;
  clickhouseKeyFile?: string | undefined;
};
