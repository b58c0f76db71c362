// One @clickhouse/client API for both modes: embedded chdb (in this process, on a data directory this
// process locks) or a ClickHouse server at CLICKHOUSE_URL. Nothing downstream knows which it is.
import { resolve } from 'node:path';
import { createClient } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import type { ClickHouseSettings } from './config.ts';
import { lockDataDir } from './data-dir-lock.ts';
import type { DataDirLock } from './data-dir-lock.ts';
import { serverTls } from './server-tls.ts';

/** Longest wait for one request, in ms: effectively none, so an insert that may still land is never abandoned. */
const NO_TIMEOUT_MS = 2_147_483_647;

export interface ClickHouseHandle {
  client: ClickHouseClient;
  mode: 'embedded' | 'server';
  /** Embedded mode: the absolute data directory and its lock. */
  dataDir?: string;
  lock?: DataDirLock;
  close(): Promise<void>;
}

function tlsOption(settings: ClickHouseSettings): { tls?: NonNullable<ReturnType<typeof serverTls>> } {
  const tls = serverTls(settings);
  return tls === undefined ? {} : { tls };
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export function openClickHouse(settings: ClickHouseSettings, holder: string): ClickHouseHandle {
  if (settings.clickhouseUrl !== undefined) {
    const client = createClient({
      url: settings.clickhouseUrl,
      username: settings.clickhouseUser,
      password: settings.clickhousePassword,
      database: settings.clickhouseDatabase,
      request_timeout: NO_TIMEOUT_MS,
      compression: { request: false, response: false },
      ...tlsOption(settings),
    });
    return { client, mode: 'server', close: () => client.close() };
  }
  const dataDir = resolve(settings.clickhouseDataDir);
  const lock = lockDataDir(dataDir, holder);
  try {
    // chdb's Connection implements client-common's contract; the cast bridges two copies of its types.
    const connection = createChdbConnection({ path: dataDir }) as unknown as ClientConnection;
    const client = createClient({ connection });
    return {
      client,
      mode: 'embedded',
      dataDir,
      lock,
      close: async () => {
        await client.close();
        lock.release();
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
