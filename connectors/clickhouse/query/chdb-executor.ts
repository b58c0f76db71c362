// Runs one HTTP request's SQL on the embedded engine, in a chdb session of its own (sessions on one data
// directory share the data but not settings, and open in about a millisecond): the request's settings,
// then readonly=1 unless this is the writable test server, then the statement.
import { Session } from 'chdb';

export interface ExecuteRequest {
  sql: string;
  format: string;
  settings: ReadonlyMap<string, string>;
  /** `{name:Type}` query parameters (URL `param_name=value`). */
  params: Readonly<Record<string, string>>;
}

export interface Executor {
  execute(request: ExecuteRequest): Promise<Buffer>;
}

function literal(value: string): string {
  return /^-?\d+(\.\d+)?$/.test(value) ? value : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function chdbExecutor(dataDir: string, readOnly: boolean): Executor {
  return {
    async execute(request) {
      const session = new Session(dataDir);
      try {
        // A ClickHouse server's default; chdb's differs, and clients (e.g. @clickhouse/client) expect it.
        await session.queryAsync('SET output_format_json_quote_64bit_integers = 1');
        for (const [key, value] of request.settings)
          await session.queryAsync(`SET ${key} = ${literal(value)}`);
        if (readOnly) await session.queryAsync('SET readonly = 1');
        const options = { format: request.format };
        const result =
          Object.keys(request.params).length > 0
            ? await session.queryBindAsync(request.sql, request.params, options)
            : await session.queryAsync(request.sql, options);
        return Buffer.from(result.bytes());
      } finally {
        session.close();
      }
    },
  };
}
