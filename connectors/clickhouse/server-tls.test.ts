// Server mode over TLS (issue 17): the sink's client trusts only the configured CA and verifies the host;
// an untrusted certificate or a refused login stops it at start with exit 2 and the keys to check. The
// server here is the query endpoint serving https with a certificate made by openssl for this run.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBrokerCertificates, makeCertificateAuthority } from '../../infra/stack/secure-listener.ts';
import { EXIT_BAD_CONFIG, exitCodeFor } from '../../runtime/app/host/process-lifecycle.ts';
import { isTributaryError } from '../../runtime/index.ts';
import { openClickHouse } from './connection.ts';
import type { ClickHouseSettings } from './config.ts';
import { checkServerAccess } from './server-check.ts';
import { queryEndpointTls, serverTls } from './server-tls.ts';
import { startEndpointFixture } from './testing/query-endpoint-fixture.ts';
import type { EndpointFixture } from './testing/query-endpoint-fixture.ts';

const PASSWORD = 'endpoint-secret';
let dir: string;
let caFile: string;
let fixture: EndpointFixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-ch-tls-'));
  const tls = await makeBrokerCertificates(dir);
  caFile = tls.caFile;
  const endpointTls = queryEndpointTls({
    queryTlsCertFile: join(dir, 'broker.pem'),
    queryTlsKeyFile: join(dir, 'broker.key'),
  });
  fixture = await startEndpointFixture({
    ...endpointTls,
    access: { user: 'dashboards', password: PASSWORD, allowedOrigins: [] },
  });
}, 60_000);

afterAll(async () => {
  await fixture.endpoint.close();
});

function settings(overrides: Partial<ClickHouseSettings>): ClickHouseSettings {
  return {
    clickhouseUrl: fixture.endpoint.url,
    clickhouseUser: 'dashboards',
    clickhousePassword: PASSWORD,
    clickhouseDatabase: 'default',
    clickhouseDataDir: join(dir, 'unused'),
    clickhouseCaFile: caFile,
    ...overrides,
  };
}

async function accessError(overrides: Partial<ClickHouseSettings>): Promise<unknown> {
  const handle = openClickHouse(settings(overrides), 'test');
  try {
    await checkServerAccess(handle.client, fixture.endpoint.url, settings(overrides).clickhouseUser);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await handle.close();
  }
}

describe('ClickHouse server over TLS', () => {
  it('connects with the CA that signed the server certificate and reads', async () => {
    expect(fixture.endpoint.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const handle = openClickHouse(settings({}), 'test');
    await checkServerAccess(handle.client, fixture.endpoint.url, 'dashboards');
    const rows = await (
      await handle.client.query({ query: 'SELECT count() AS n FROM requests', format: 'JSONEachRow' })
    ).json<{ n: string }>();
    expect(rows).toEqual([{ n: '3' }]);
    await handle.close();
  });

  it('refuses a server certificate the configured CA did not sign: exit 2, naming the CA key', async () => {
    const otherCa = await makeCertificateAuthority(join(dir, 'other'), 'some-other-ca');
    const error = await accessError({ clickhouseCaFile: otherCa });
    expect(isTributaryError(error) && error.code).toBe('TRIBUTARY_CLICKHOUSE_TLS_FAILED');
    expect(String((error as Error).message)).toContain('TRIBUTARY_CLICKHOUSE_CA_FILE');
    expect(exitCodeFor(error)).toBe(EXIT_BAD_CONFIG);
  });

  it('refuses it with the system CAs too (no CA file): verification is never off', async () => {
    const error = await accessError({ clickhouseCaFile: undefined });
    expect(isTributaryError(error) && error.code).toBe('TRIBUTARY_CLICKHOUSE_TLS_FAILED');
  });

  it('stops on a refused login with exit 2, naming the user and password keys, never the password', async () => {
    const error = await accessError({ clickhousePassword: 'wrong-password' });
    expect(isTributaryError(error) && error.code).toBe('TRIBUTARY_CLICKHOUSE_AUTHENTICATION_FAILED');
    const message = String((error as Error).message);
    expect(message).toContain('TRIBUTARY_CLICKHOUSE_PASSWORD');
    expect(message).not.toContain('wrong-password');
    expect(exitCodeFor(error)).toBe(EXIT_BAD_CONFIG);
  });

  it('refuses half a client certificate or an unreadable file at start, naming the key', () => {
    const half = () => serverTls(settings({ clickhouseCertFile: join(dir, 'broker.pem') }));
    expect(half).toThrow(/TRIBUTARY_CLICKHOUSE_KEY_FILE/);
    const missing = () => serverTls(settings({ clickhouseCaFile: join(dir, 'no-such.pem') }));
    expect(missing).toThrow(/TRIBUTARY_CLICKHOUSE_CA_FILE: cannot read .*no-such\.pem \(ENOENT\)/);
    expect(() => queryEndpointTls({ queryTlsCertFile: join(dir, 'broker.pem') })).toThrow(
      /TRIBUTARY_QUERY_TLS_KEY_FILE/,
    );
  });

  it('passes a client certificate for mutual TLS when both halves are set', () => {
    const tls = serverTls(
      settings({ clickhouseCertFile: join(dir, 'broker.pem'), clickhouseKeyFile: join(dir, 'broker.key') }),
    );
    expect(tls).toMatchObject({
      cert: readFileSync(join(dir, 'broker.pem')),
      key: readFileSync(join(dir, 'broker.key')),
    });
  });
});
