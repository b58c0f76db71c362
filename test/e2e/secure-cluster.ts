// A second, secured Kafka node for the secured-cluster tests: a SASL_SSL listener with SCRAM users,
// a certificate from a CA made on the spot, and the StandardAuthorizer. Its PLAINTEXT listener is the
// tests' own (ANONYMOUS is a super user there), so a test can set up and read back topics with the kit.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processEnv } from '../../infra/pipeline/processor-process.ts';
import { cacheDir } from '../../infra/stack/paths.ts';
import { findFreePorts } from '../../infra/stack/ports.ts';
import { signalGroup, waitForExit } from '../../infra/stack/processes.ts';
import { startKafkaNode, waitForKafka } from '../../infra/stack/kafka-node.ts';
import { makeBrokerCertificates } from '../../infra/stack/secure-listener.ts';
import type { ScramUser } from '../../infra/stack/secure-listener.ts';
import { readTopic } from '../../runtime/testing/kafka-test-kit.ts';
import type { ReadRecord } from '../../runtime/testing/kafka-test-kit.ts';

export interface SecureCluster {
  /** host:port of the SASL_SSL listener. */
  saslSslBrokers: string;
  /** host:port of the PLAINTEXT listener (super user), for the test's own set-up and checks. */
  plaintextBrokers: string;
  caFile: string;
  /** A super user, and a user that may do only what ACLs grant. */
  admin: ScramUser;
  limited: ScramUser;
  dir: string;
  stop(): Promise<void>;
}

// Recognisable in any output, so the secrets test can search for it.
const password = (): string => `sentinel-secret-${randomBytes(12).toString('hex')}`;

export async function startSecureCluster(): Promise<SecureCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-secure-'));
  const [kafkaPort = 0, controllerPort = 0, saslPort = 0] = await findFreePorts(3);
  const tls = await makeBrokerCertificates(join(dir, 'tls'));
  const admin = { name: 'admin', password: password() };
  const limited = { name: 'limited', password: password() };
  const record = await startKafkaNode({
    dataDir: dir,
    cacheDir: cacheDir(),
    kafkaPort,
    controllerPort,
    heap: '384m',
    secure: { port: saslPort, tls, users: [admin, limited], superUsers: [admin.name] },
  });
  await waitForKafka(record, kafkaPort, 90_000);
  return {
    saslSslBrokers: `127.0.0.1:${saslPort}`,
    plaintextBrokers: `127.0.0.1:${kafkaPort}`,
    caFile: tls.caFile,
    admin,
    limited,
    dir,
    stop: async () => {
      signalGroup(record.pid, 'SIGTERM');
      if ((await waitForExit([record], 20_000)).length > 0) signalGroup(record.pid, 'SIGKILL');
    },
  };
}

/** TRIBUTARY_* settings that make a process talk SASL_SSL + SCRAM to the cluster as `user`. */
export function saslSslEnv(cluster: SecureCluster, user: ScramUser): Record<string, string> {
  return {
    TRIBUTARY_KAFKA_BROKERS: cluster.saslSslBrokers,
    TRIBUTARY_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
    TRIBUTARY_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    TRIBUTARY_KAFKA_SASL_USERNAME: user.name,
    TRIBUTARY_KAFKA_SASL_PASSWORD: user.password,
    TRIBUTARY_KAFKA_SSL_CA_FILE: cluster.caFile,
  };
}

/** Where a test's processor copies run: their topic prefix, state dir and partition count. */
export interface SecuredRun {
  registryUrl: string;
  prefix: string;
  stateDir: string;
  partitions: number;
}

/**
 * TRIBUTARY_* settings of a processor copy on the cluster: `security` (saslSslEnv) says as whom, `extra`
 * adds or overrides keys. One fixed instance id, so a restart rejoins as the same static member.
 */
export function securedProcessorEnv(
  cluster: SecureCluster,
  run: SecuredRun,
  security: Record<string, string>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...processEnv({
      brokers: cluster.saslSslBrokers,
      registryUrl: run.registryUrl,
      prefix: run.prefix,
      stateDir: run.stateDir,
    }),
    TRIBUTARY_INSTANCE_ID: '0',
    TRIBUTARY_DEFAULT_PARTITIONS: String(run.partitions),
    TRIBUTARY_STARTUP_DEADLINE_MS: '60000',
    ...security,
    ...extra,
  };
}

/** Reads a topic on the test's own listener until it holds `count` records (a processor is still at work). */
export async function readTopicUntil(
  cluster: SecureCluster,
  topic: string,
  partitions: number,
  count: number,
  timeoutMs = 90_000,
): Promise<ReadRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await readTopic(cluster.plaintextBrokers, topic, partitions, 30_000);
    if (records.length >= count || Date.now() > deadline) return records;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
