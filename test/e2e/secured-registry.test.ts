// Issue 17: the schema registry behind basic auth and TLS. A local HTTPS front of the real registry
// refuses every request without the right credentials (401), as Confluent's and Apicurio's do when auth
// is on; its certificate comes from a CA made for the test. The deploy step registers through it, a
// processor starts through it (its password from a file), and a wrong password or an untrusted CA each
// stop a process at start with exit 2 and what to fix, the password never shown.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  processEnv,
  runCommandToExit,
  runProcessorToExit,
  startProcessor,
} from '../../infra/pipeline/processor-process.ts';
import { findFreePort } from '../../infra/stack/stack.ts';
import { makeBrokerCertificates, makeCertificateAuthority } from '../../infra/stack/secure-listener.ts';
import { HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import { uniquePrefix } from '../../runtime/testing/kafka-test-kit.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-secured-registry-'));
const password = `sentinel-secret-${randomBytes(12).toString('hex')}`;
const passwordFile = join(workDir, 'registry-password');
let front: Server;
let frontUrl: string;
let caFile: string;
let authenticated = 0;

/** Forwards an authenticated request to the real registry, as is; refuses any other with 401. */
async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const expected = `Basic ${Buffer.from(`tributary:${password}`).toString('base64')}`;
  if (request.headers.authorization !== expected) {
    response.writeHead(401, {
      'Content-Type': 'application/json',
      'WWW-Authenticate': 'Basic realm="registry"',
    });
    response.end(JSON.stringify({ error_code: 40101, message: 'Unauthorized' }));
    return;
  }
  authenticated++;
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const target = new URL(request.url ?? '/', new URL(registryUrl).origin);
  const headers = Object.fromEntries(
    Object.entries(request.headers).flatMap(([k, v]) =>
      typeof v === 'string' && !['host', 'authorization', 'content-length'].includes(k) ? [[k, v]] : [],
    ),
  );
  const body = chunks.length === 0 ? undefined : Buffer.concat(chunks);
  const answer = await fetch(target, {
    method: request.method ?? 'GET',
    headers,
    ...(body === undefined ? {} : { body }),
  });
  response.writeHead(answer.status, {
    'Content-Type': answer.headers.get('content-type') ?? 'application/json',
  });
  response.end(Buffer.from(await answer.arrayBuffer()));
}

beforeAll(async () => {
  const tlsDir = join(workDir, 'tls');
  caFile = (await makeBrokerCertificates(tlsDir)).caFile;
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  const port = await findFreePort();
  const tls = {
    key: readFileSync(join(tlsDir, 'broker.key')),
    cert: readFileSync(join(tlsDir, 'broker.pem')),
  };
  front = createServer(tls, (request, response) => {
    serve(request, response).catch((error: unknown) => {
      response.writeHead(502);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => front.listen(port, '127.0.0.1', resolve));
  frontUrl = `https://127.0.0.1:${port}${new URL(registryUrl).pathname}`;
}, 60_000);

afterAll(() => new Promise<void>((resolve) => front?.close(() => resolve())));

function env(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...processEnv({ brokers, registryUrl: frontUrl, prefix, stateDir: join(workDir, prefix) }),
    TRIBUTARY_INSTANCE_ID: '0',
    TRIBUTARY_STARTUP_DEADLINE_MS: '30000',
    TRIBUTARY_REGISTRY_USERNAME: 'tributary',
    TRIBUTARY_REGISTRY_PASSWORD_FILE: passwordFile,
    TRIBUTARY_REGISTRY_CA_FILE: caFile,
    ...extra,
  };
}

describe('a schema registry that enforces basic auth over TLS', () => {
  it('the deploy step registers through it, and a processor with auto-register off starts through it', async () => {
    const prefix = uniquePrefix('registry-auth');
    const before = authenticated;
    const register = await runCommandToExit('schemas', ['register', '--topic-prefix', prefix], env(prefix));
    expect(register.code, register.output).toBe(0);
    expect(authenticated).toBeGreaterThan(before);
    const direct = new HttpSchemaRegistry(registryUrl);
    expect(await direct.listVersions(`${prefix}requests.valid-value`)).toEqual([1]);
    expect(await direct.listVersions(`${prefix}ingest.recentEventIds.changelog-value`)).toEqual([]);

    const httpPort = await findFreePort();
    const extra = { TRIBUTARY_REGISTRY_AUTO_REGISTER: 'false', TRIBUTARY_HTTP_PORT: String(httpPort) };
    const ingest = startProcessor('ingest', env(prefix, extra), join(workDir, `${prefix}ingest.log`));
    try {
      const deadline = Date.now() + 60_000;
      let ready = false;
      while (!ready && Date.now() < deadline) {
        ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(ready, readFileSync(join(workDir, `${prefix}ingest.log`), 'utf8').slice(-2000)).toBe(true);
    } finally {
      ingest.kill('SIGTERM');
      expect((await ingest.exited).code).toBe(0);
    }
    const log = readFileSync(join(workDir, `${prefix}ingest.log`), 'utf8');
    expect(log).not.toContain(password);
    expect(register.output).not.toContain(password);
  });

  it('stops at start with exit 2 on a wrong password, naming the settings to check', async () => {
    const wrong = join(workDir, 'wrong-password');
    writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
    const run = await runProcessorToExit(
      'ingest',
      env(uniquePrefix('registry-badpass'), { TRIBUTARY_REGISTRY_PASSWORD_FILE: wrong }),
    );
    expect(run.code, run.output).toBe(2);
    expect(run.output).toContain('answered 401');
    expect(run.output).toContain('TRIBUTARY_REGISTRY_PASSWORD');
    expect(run.output).not.toContain('not-the-password');
  });

  it('stops at start with exit 2 on a certificate from an untrusted CA, naming TRIBUTARY_REGISTRY_CA_FILE', async () => {
    const otherCa = await makeCertificateAuthority(join(workDir, 'other-ca'), 'some-other-ca');
    const run = await runProcessorToExit(
      'ingest',
      env(uniquePrefix('registry-untrusted'), { TRIBUTARY_REGISTRY_CA_FILE: otherCa }),
    );
    expect(run.code, run.output).toBe(2);
    expect(run.output).toMatch(/certificate was refused .*TRIBUTARY_REGISTRY_CA_FILE/);
    expect(run.output).not.toContain(password);
  });
});
