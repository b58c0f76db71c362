// The first request to a ClickHouse server, made at start: a certificate it does not trust or a login
// it refuses stops the sink with exit 2 and the keys to check, instead of failing every insert later.
// Classified by Node's TLS error codes and ClickHouse's numeric codes, never by message text.
import type { ClickHouseClient } from '@clickhouse/client';
import { TributaryError, describeError } from '../../runtime/index.ts';
import { clickhouseCode } from './errors.ts';

/** Node's codes for a server certificate that cannot be trusted (tls.connect, checkServerIdentity). */
const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** ClickHouse codes of a login the server refuses. */
const LOGIN_CODES = new Set([
  192, // UNKNOWN_USER
  193, // WRONG_PASSWORD
  194, // REQUIRED_PASSWORD
  516, // AUTHENTICATION_FAILED
]);

function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** Throws TRIBUTARY_CLICKHOUSE_TLS_FAILED or _AUTHENTICATION_FAILED; other failures are left to what follows. */
export async function checkServerAccess(client: ClickHouseClient, url: string, user: string): Promise<void> {
  const ping = await client.ping({ select: true });
  if (ping.success) return;
  const { error } = ping;
  if (errorCodes(error).some((code) => TLS_CODES.has(code))) {
    throw new TributaryError(
      'TRIBUTARY_CLICKHOUSE_TLS_FAILED',
      `the TLS handshake with ${url} failed (${describeError(error)}); check TRIBUTARY_CLICKHOUSE_CA_FILE ` +
        "(the CA that signed the server's certificate) and that the URL's host is in the certificate",
      { cause: error },
    );
  }
  const code = clickhouseCode(error);
  if (code !== undefined && LOGIN_CODES.has(code)) {
    throw new TributaryError(
      'TRIBUTARY_CLICKHOUSE_AUTHENTICATION_FAILED',
      `${url} refuses the login of user "${user}" (code ${code}); check TRIBUTARY_CLICKHOUSE_USER and ` +
        'TRIBUTARY_CLICKHOUSE_PASSWORD (or TRIBUTARY_CLICKHOUSE_PASSWORD_FILE)',
      { cause: error, context: { clickhouseCode: code } },
    );
  }
  // Down, restarting, or anything else: the migrations that follow meet it and report it as before.
}
