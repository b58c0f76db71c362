// Issue 17: Tributary against a secured cluster. The whole pipeline (ingest + sink) talks SASL_SSL with
// SCRAM to a broker whose certificate comes from a CA made for the test, and reconciles; a wrong
// password and an untrusted certificate each stop a process at start with exit 2 and what is wrong.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { selectRows } from '../../connectors/clickhouse/index.ts';
import type { ResultsSettings } from '../../connectors/clickhouse/index.ts';
import {
  runCommandToExit,
  runProcessorToExit,
  startProcessor,
} from '../../infra/pipeline/processor-process.ts';
import { findFreePort } from '../../infra/stack/stack.ts';
import { makeCertificateAuthority } from '../../infra/stack/secure-listener.ts';
import { reconcileClickHouse, reconcileIngestTopics } from '../../loadgen/index.ts';
import type { Truth } from '../../loadgen/index.ts';
import { waitForGroupCaughtUp } from '../../runtime/kafka/index.ts';
import { produceRecords, uniquePrefix } from '../../runtime/testing/kafka-test-kit.ts';
import { changeAcls } from '../../infra/stack/acls.ts';
import { createOperatorTopics, processorAcls } from './secured-acls.ts';
import { readTopicUntil, saslSslEnv, securedProcessorEnv, startSecureCluster } from './secure-cluster.ts';
import type { SecureCluster } from './secure-cluster.ts';

const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-secured-'));
const PARTITIONS = 2;
let cluster: SecureCluster;

beforeAll(async () => {
  cluster = await startSecureCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

const env = (prefix: string, security: Record<string, string>, extra: Record<string, string> = {}) =>
  securedProcessorEnv(
    cluster,
    { registryUrl, prefix, stateDir: join(workDir, prefix), partitions: PARTITIONS },
    security,
    extra,
  );

/**
 * Runs ingest and the sink with `security` and the load generator with `loadgenSecurity`, all over
 * SASL_SSL, then reconciles the topics and ClickHouse against the generator's truth (checks on the test's
 * own PLAINTEXT listener).
 */
async function runPipelineAndReconcile(
  prefix: string,
  security: Record<string, string>,
  loadgenSecurity: Record<string, string>,
): Promise<void> {
  const queryPort = await findFreePort();
  const clickhouse: ResultsSettings = {
    clickhouseDataDir: join(workDir, `${prefix}clickhouse`),
    clickhouseUser: 'default',
    clickhousePassword: '',
    clickhouseDatabase: 'default',
    queryPort,
  };
  const sinkExtra = {
    TRIBUTARY_CLICKHOUSE_DATA_DIR: clickhouse.clickhouseDataDir,
    TRIBUTARY_QUERY_PORT: String(queryPort),
  };
  const ingest = startProcessor('ingest', env(prefix, security), join(workDir, `${prefix}ingest.log`));
  const sink = startProcessor('sink', env(prefix, security, sinkExtra), join(workDir, `${prefix}sink.log`));
  const loadgen = await runCommandToExit(
    'loadgen',
    ['--count', '3000', '--rate', '3000', '--seed', '17', '--partitions', String(PARTITIONS), '--quiet'],
    { ...loadgenSecurity, TRIBUTARY_KAFKA_BROKERS: cluster.saslSslBrokers, TRIBUTARY_TOPIC_PREFIX: prefix },
  );
  expect(loadgen.code, loadgen.output).toBe(0);
  const truthFile = /^truth (.+)$/m.exec(loadgen.output)?.[1] ?? '';
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as Truth;
  expect(truth.acknowledged.deliveries).toBeGreaterThan(3000);
  const brokers = cluster.plaintextBrokers;
  await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`);
  for (const topic of ['requests.valid', 'requests.dlq'])
    await waitForGroupCaughtUp(brokers, `${prefix}clickhouse-sink`, `${prefix}${topic}`);
  const reconcile = { brokers, registryUrl, topicPrefix: prefix, partitions: PARTITIONS, truth };
  expect((await reconcileIngestTopics(reconcile)).checks.filter((c) => !c.ok)).toEqual([]);
  const select = async (sql: string) => (await selectRows(sql, clickhouse)).data;
  const result = await reconcileClickHouse(truth, select);
  expect(result.checks.filter((c) => !c.ok)).toEqual([]);
  expect(result.ok).toBe(true);
  ingest.kill('SIGTERM');
  sink.kill('SIGTERM');
  expect([(await ingest.exited).code, (await sink.exited).code]).toEqual([0, 0]);
}

describe('a secured cluster (SASL_SSL, SCRAM, a private CA)', () => {
  it('runs the whole pipeline over SASL_SSL and reconciles', async () => {
    const admin = saslSslEnv(cluster, cluster.admin);
    await runPipelineAndReconcile(uniquePrefix('secured'), admin, admin);
  });

  // Issue 17: the ACL rows of the README for a stateful processor (ingest, its dedup changelog) and the
  // sink, as one user holding nothing else; the operator made the topics.
  it('runs ingest (with its state changelog) and the sink on exactly the documented ACLs, and reconciles', async () => {
    const prefix = uniquePrefix('aclpipe');
    const changelog = 'ingest.recentEventIds.changelog';
    const sinkInputs = [
      'requests.valid',
      'requests.enriched',
      'requests.dlq',
      'stats.1m',
      'alerts',
      'notifier.dlq',
    ];
    await createOperatorTopics(cluster.plaintextBrokers, prefix, PARTITIONS, {
      plain: ['requests.raw', ...sinkInputs, 'clickhouse-sink.dlq'],
      compacted: [changelog],
    });
    const user = cluster.limited.name;
    await changeAcls(cluster.plaintextBrokers, 'add', [
      ...processorAcls(user, prefix, 'ingest', {
        inputs: ['requests.raw'],
        outputs: ['requests.valid', 'requests.dlq'],
        changelogs: [changelog],
      }),
      ...processorAcls(user, prefix, 'clickhouse-sink', {
        inputs: sinkInputs,
        outputs: ['requests.dlq', 'clickhouse-sink.dlq'],
      }),
    ]);
    // The load generator stands for the upstream producers: it writes as the admin.
    await runPipelineAndReconcile(
      prefix,
      saslSslEnv(cluster, cluster.limited),
      saslSslEnv(cluster, cluster.admin),
    );
  });

  it('stops at start with exit 2 on a wrong password, saying authentication failed', async () => {
    const security = saslSslEnv(cluster, { name: cluster.admin.name, password: 'not-the-password' });
    const run = await runProcessorToExit('ingest', env(uniquePrefix('badpass'), security));
    expect(run.code, run.output).toBe(2);
    expect(run.output).toMatch(/authentication failed/i);
    expect(run.output).toContain('TRIBUTARY_KAFKA_SASL_PASSWORD');
    expect(run.output).not.toContain('not-the-password');
  });

  it('stops at start with exit 2 on a certificate from an untrusted CA, saying so', async () => {
    const otherCa = await makeCertificateAuthority(join(workDir, 'other-ca'), 'some-other-ca');
    const security = { ...saslSslEnv(cluster, cluster.admin), TRIBUTARY_KAFKA_SSL_CA_FILE: otherCa };
    const run = await runProcessorToExit('ingest', env(uniquePrefix('untrusted'), security));
    expect(run.code, run.output).toBe(2);
    expect(run.output).toMatch(/certificate verify failed/i);
    expect(run.output).toContain('TRIBUTARY_KAFKA_SSL_CA_FILE');
  });

  it('runs a processor with exactly the documented ACLs, and names the right that is missing', async () => {
    const prefix = uniquePrefix('acl');
    const topics = ['passthrough.in', 'passthrough.out'];
    // Topics are made by an operator (the test, on its super-user listener): the processor may not create.
    await createOperatorTopics(cluster.plaintextBrokers, prefix, PARTITIONS, { plain: topics });
    const grants = processorAcls(cluster.limited.name, prefix, 'passthrough', {
      inputs: [topics[0]!],
      outputs: [topics[1]!],
    });
    await changeAcls(cluster.plaintextBrokers, 'add', grants);
    const records = ['a', 'b', 'c'].map((key) => ({ key, value: `value-${key}` }));
    await produceRecords(cluster.plaintextBrokers, prefix + topics[0], records);
    const security = saslSslEnv(cluster, cluster.limited);
    const copy = startProcessor('passthrough', env(prefix, security), join(workDir, 'acl.log'));
    const copied = await readTopicUntil(cluster, prefix + topics[1], PARTITIONS, records.length);
    expect(copied.map((r) => r.key).sort()).toEqual(['a', 'b', 'c']);
    copy.kill('SIGTERM');
    expect((await copy.exited).code).toBe(0);

    const withoutTxnWrite = grants.filter(
      (g) => !(g.resource === 'TRANSACTIONAL_ID' && g.operation === 'WRITE'),
    );
    await changeAcls(cluster.plaintextBrokers, 'remove', grants);
    await changeAcls(cluster.plaintextBrokers, 'add', withoutTxnWrite);
    const run = await runProcessorToExit(
      'passthrough',
      env(prefix, security, { TRIBUTARY_INSTANCE_ID: '1' }),
    );
    // A missing right needs a person, like bad config: exit 2, naming the right (issue 17).
    expect(run.code, run.output).toBe(2);
    expect(run.output).toMatch(/not authorized.*WRITE.*TransactionalId/i);
  });
});
