// A writable ClickHouse-compatible HTTP server over an embedded data directory, for tests of the sink's
// server mode (CLICKHOUSE_URL): a test stops and restarts it to inject an outage. Not for production.
// Usage: node --import tsx connectors/clickhouse/testing/local-server.ts <dataDir> <port>
import { resolve } from 'node:path';
import { createLogger } from '../../../runtime/index.ts';
import { engineVersion } from '../clickhouse-sink.ts';
import { lockDataDir } from '../data-dir-lock.ts';
import { chdbExecutor } from '../query/chdb-executor.ts';
import { startQueryEndpoint } from '../query/http-endpoint.ts';

const [dir, port] = process.argv.slice(2);
if (dir === undefined || port === undefined) {
  process.stderr.write('usage: local-server.ts <dataDir> <port>\n');
  process.exit(2);
}
const dataDir = resolve(dir);
const lock = lockDataDir(dataDir, 'local-server');
const log = createLogger({ name: 'clickhouse-local-server', pretty: false });
const endpoint = await startQueryEndpoint({
  host: '127.0.0.1',
  port: Number(port),
  executor: chdbExecutor(dataDir, false),
  readOnly: false,
  version: engineVersion(),
  log,
});
lock.setQueryUrl(endpoint.url);
log.info({ url: endpoint.url, dataDir }, 'writable ClickHouse HTTP server up');
const stop = (): void => {
  void endpoint.close().then(() => {
    lock.release();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
