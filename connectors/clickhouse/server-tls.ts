// TLS both ways: to a ClickHouse server (CLICKHOUSE_URL https://…): the CA that vouches for it, and a client
// certificate for mutual TLS; and https for the embedded mode's query endpoint. Host names are always verified (Node's default, never turned off). The
// files are read at start, so a missing one stops the process naming its key, not at the first insert.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../runtime/index.ts';
import type { ConfigIssue } from '../../runtime/index.ts';
import type { ClickHouseSettings } from './config.ts';

export type ServerTls = { ca_cert: Buffer } | { ca_cert: Buffer; cert: Buffer; key: Buffer };

const ENV = {
  queryTlsCertFile: 'TRIBUTARY_QUERY_TLS_CERT_FILE',
  queryTlsKeyFile: 'TRIBUTARY_QUERY_TLS_KEY_FILE',
  clickhouseCaFile: 'TRIBUTARY_CLICKHOUSE_CA_FILE',
  clickhouseCertFile: 'TRIBUTARY_CLICKHOUSE_CERT_FILE',
  clickhouseKeyFile: 'TRIBUTARY_CLICKHOUSE_KEY_FILE',
} as const;

type FileKey = keyof typeof ENV;

function readPem(key: FileKey, path: string, issues: ConfigIssue[]): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    issues.push({
      key,
      envVar: ENV[key],
      problem: `cannot read ${path} (${reason})`,
      fix: 'point it at a PEM file',
    });
    return undefined;
  }
}

/** The client's `tls` option for the settings, or undefined (plain http, or https with the system CAs). */
export function serverTls(settings: ClickHouseSettings): ServerTls | undefined {
  const { clickhouseCaFile: caFile, clickhouseCertFile: certFile, clickhouseKeyFile: keyFile } = settings;
  if (caFile === undefined && certFile === undefined && keyFile === undefined) return undefined;
  const issues: ConfigIssue[] = [];
  if (caFile === undefined)
    issues.push({
      key: 'clickhouseCaFile',
      envVar: ENV.clickhouseCaFile,
      problem: 'a client certificate is set but no CA file',
      fix: "set it to the CA (PEM) that signed the server's certificate",
    });
  if ((certFile === undefined) !== (keyFile === undefined))
    issues.push({
      key: certFile === undefined ? 'clickhouseCertFile' : 'clickhouseKeyFile',
      envVar: certFile === undefined ? ENV.clickhouseCertFile : ENV.clickhouseKeyFile,
      problem: 'mutual TLS needs both the client certificate and its key',
      fix: 'set both TRIBUTARY_CLICKHOUSE_CERT_FILE and TRIBUTARY_CLICKHOUSE_KEY_FILE, or neither',
    });
  const ca = caFile === undefined ? undefined : readPem('clickhouseCaFile', caFile, issues);
  const cert = certFile === undefined ? undefined : readPem('clickhouseCertFile', certFile, issues);
  const key = keyFile === undefined ? undefined : readPem('clickhouseKeyFile', keyFile, issues);
  if (issues.length > 0 || ca === undefined) throw tlsConfigError('ClickHouse', issues);
  return cert !== undefined && key !== undefined ? { ca_cert: ca, cert, key } : { ca_cert: ca };
}

/** The query endpoint's `tls` option: https when both its certificate and key are configured. */
export function queryEndpointTls(settings: {
  queryTlsCertFile?: string | undefined;
  queryTlsKeyFile?: string | undefined;
}): { tls?: { cert: Buffer; key: Buffer } } {
  const { queryTlsCertFile: certFile, queryTlsKeyFile: keyFile } = settings;
  if (certFile === undefined && keyFile === undefined) return {};
  const issues: ConfigIssue[] = [];
  if (certFile === undefined || keyFile === undefined)
    issues.push({
      key: certFile === undefined ? 'queryTlsCertFile' : 'queryTlsKeyFile',
      envVar: certFile === undefined ? ENV.queryTlsCertFile : ENV.queryTlsKeyFile,
      problem: 'https needs both the certificate and its key',
      fix: 'set both TRIBUTARY_QUERY_TLS_CERT_FILE and TRIBUTARY_QUERY_TLS_KEY_FILE, or neither for http',
    });
  const cert = certFile === undefined ? undefined : readPem('queryTlsCertFile', certFile, issues);
  const key = keyFile === undefined ? undefined : readPem('queryTlsKeyFile', keyFile, issues);
  if (issues.length > 0 || cert === undefined || key === undefined)
    throw tlsConfigError('query endpoint', issues);
  return { tls: { cert, key } };
}

function tlsConfigError(what: string, issues: readonly ConfigIssue[]): ConfigError {
  return new ConfigError(
    `${what} TLS settings: ${issues.map((i) => `${i.envVar}: ${i.problem}`).join('; ')}`,
    [...issues],
  );
}
