// Issue 17, secrets: a sentinel secret placed in every secret setting (the SASL password, through its
// _FILE variant; the registry password; the client key password) appears in no log line, no error
// message, no metric, no /readyz body and no `status` output of a process running on a secured cluster.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  REPO_ROOT,
  processEnv,
  runProcessorToExit,
  startProcessor,
} from '../../infra/pipeline/processor-process.ts';
import { findFreePort } from '../../infra/stack/stack.ts';
import { uniquePrefix } from '../../runtime/testing/kafka-test-kit.ts';
import { startSecureCluster } from './secure-cluster.ts';
import type { SecureCluster } from './secure-cluster.ts';

const run = promisify(execFile);
const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-secrets-'));
let cluster: SecureCluster;

beforeAll(async () => {
  cluster = await startSecureCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

async function body(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text() };
}

async function whenReady(port: number): Promise<string> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const ready = await body(`http://127.0.0.1:${port}/readyz`).catch(() => ({ status: 0, text: '' }));
    if (ready.status === 200 || Date.now() > deadline) return ready.text;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('secrets on a secured cluster', () => {
  it('never shows the sentinel secret in logs, errors, metrics, /readyz or status', async () => {
    const sentinel = cluster.admin.password;
    expect(sentinel).toMatch(/^sentinel-secret-/);
    const secretFile = join(workDir, 'sasl-password');
    writeFileSync(secretFile, `${sentinel}\n`, { mode: 0o600 });
    const prefix = uniquePrefix('secrets');
    const port = await findFreePort();
    const security = {
      TRIBUTARY_KAFKA_BROKERS: cluster.saslSslBrokers,
      TRIBUTARY_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      TRIBUTARY_KAFKA_SASL_USERNAME: cluster.admin.name,
      TRIBUTARY_KAFKA_SASL_PASSWORD_FILE: secretFile,
      TRIBUTARY_KAFKA_SSL_CA_FILE: cluster.caFile,
      TRIBUTARY_KAFKA_SSL_KEY_PASSWORD: sentinel,
      TRIBUTARY_REGISTRY_USERNAME: 'tributary',
      TRIBUTARY_REGISTRY_PASSWORD: sentinel,
    };
    const env = {
      ...processEnv({
        brokers: cluster.saslSslBrokers,
        registryUrl,
        prefix,
        stateDir: join(workDir, 'state'),
      }),
      ...security,
      TRIBUTARY_INSTANCE_ID: '0',
      TRIBUTARY_HTTP_PORT: String(port),
      TRIBUTARY_LOG_LEVEL: 'debug',
    };
    const logFile = join(workDir, 'ingest.log');
    const ingest = startProcessor('ingest', env, logFile);
    const readyz = await whenReady(port);
    const metrics = (await body(`http://127.0.0.1:${port}/metrics`)).text;
    const status = await run(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', 'status', '--verbose'].concat([
        '--brokers',
        cluster.saslSslBrokers,
        '--prefix',
        prefix,
      ]),
      { cwd: REPO_ROOT, env: { ...process.env, ...security } },
    );
    ingest.kill('SIGTERM');
    expect((await ingest.exited).code).toBe(0);
    // Errors: a config error next to the secret, and a config error on a secret key itself.
    const badConfig = await runProcessorToExit('ingest', { ...env, TRIBUTARY_MAX_BATCH_RECORDS: 'lots' });
    const badSecret = await runProcessorToExit('ingest', {
      ...env,
      TRIBUTARY_KAFKA_SSL_KEY_PASSWORD: ' ' + sentinel,
      TRIBUTARY_KAFKA_SSL_VERIFY_HOSTNAME: 'maybe',
    });

    const outputs = {
      log: readFileSync(logFile, 'utf8'),
      readyz,
      metrics,
      status: status.stdout + status.stderr,
      badConfig: badConfig.output,
      badSecret: badSecret.output,
    };
    // Each output is real: the process ran, answered, and the errors were printed.
    expect(outputs.log).toContain('starting ingest');
    expect(outputs.metrics).toContain('# TYPE');
    expect(outputs.status).toContain(`${prefix}requests.raw`);
    expect([badConfig.code, badSecret.code]).toEqual([2, 2]);
    expect(outputs.badConfig).toContain('TRIBUTARY_MAX_BATCH_RECORDS');
    for (const [where, text] of Object.entries(outputs)) expect(text.includes(sentinel), where).toBe(false);
  });
});
