// docker-compose's one-shot ClickHouse setup, run as the server's owner before the sink starts: the sink's
// migrations (its own user may not run DDL), then the users of connectors/clickhouse/users/ (the sink's
// and the dashboards'). Idempotent, so `docker-compose up` may run it again. Exits 0 when done, 1 with the
// statement that failed otherwise.
//   node --import tsx infra/compose/clickhouse-setup.ts    (TRIBUTARY_CLICKHOUSE_URL/_USER/_PASSWORD/_DATABASE,
//   TRIBUTARY_SINK_USER_PASSWORD and TRIBUTARY_DASHBOARD_USER_PASSWORD, each also as *_FILE)
import { z } from 'zod';
import { clickhouseConfigShape } from '../../connectors/clickhouse/config.ts';
import { openClickHouse } from '../../connectors/clickhouse/connection.ts';
import { migrate } from '../../connectors/clickhouse/migrations.ts';
import { SERVER_USERS, userStatements } from '../../connectors/clickhouse/users/users.ts';
import type { ServerUserRole } from '../../connectors/clickhouse/users/users.ts';
import { TributaryError, createLogger, describeError, loadConfig } from '../../runtime/index.ts';

const setupShape = {
  ...clickhouseConfigShape,
  sinkUserPassword: z.string().min(1).describe("password of the sink's ClickHouse user (tributary_sink)"),
  dashboardUserPassword: z
    .string()
    .min(1)
    .describe("password of the dashboards' read-only ClickHouse user (tributary_dashboard)"),
};

export async function setUpClickHouseServer(config: z.infer<z.ZodObject<typeof setupShape>>): Promise<void> {
  const log = createLogger({ name: 'clickhouse-setup' });
  const handle = openClickHouse(config, 'clickhouse-setup');
  const passwords: Record<ServerUserRole, string> = {
    sink: config.sinkUserPassword,
    dashboard: config.dashboardUserPassword,
  };
  try {
    const applied = await migrate(handle.client, log);
    log.info({ applied }, 'migrations up to date');
    for (const role of Object.keys(SERVER_USERS) as ServerUserRole[]) {
      const options = { database: config.clickhouseDatabase, password: passwords[role] };
      for (const [index, query] of userStatements(role, options).entries()) {
        await handle.client.command({ query }).catch((error: unknown) => {
          throw new TributaryError(
            'TRIBUTARY_CLICKHOUSE_SETUP_FAILED',
            `${SERVER_USERS[role].file}, statement ${index + 1}, failed: ${describeError(error)}`,
            { cause: error },
          );
        });
      }
      log.info({ user: SERVER_USERS[role].user }, 'user and grants in place');
    }
  } finally {
    await handle.close();
  }
}

if (process.argv[1] === import.meta.filename) {
  const config = loadConfig('clickhouse-setup', z.object(setupShape));
  await setUpClickHouseServer(config);
}
