// SASL and TLS settings of every Kafka client this process makes. A process talks to one cluster, so
// they are set once at start (runAsProcess) and merged into every consumer, producer and admin config.
import type { SecurityConfig } from '../config/security-config.ts';
import { ConfigError } from '../errors.ts';
import type { ConfigIssue } from '../errors.ts';

/** librdkafka properties (security.protocol, sasl.*, ssl.*). */
export type KafkaSecurityProperties = Readonly<Record<string, string>>;

export type KafkaSecuritySettings = Pick<
  SecurityConfig,
  | 'kafkaSecurityProtocol'
  | 'kafkaSaslMechanism'
  | 'kafkaSaslUsername'
  | 'kafkaSaslPassword'
  | 'kafkaSslCaFile'
  | 'kafkaSslVerifyHostname'
  | 'kafkaSslCertFile'
  | 'kafkaSslKeyFile'
  | 'kafkaSslKeyPassword'
>;

let processSecurity: KafkaSecurityProperties = {};

function missingIssues(settings: Partial<KafkaSecuritySettings>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const need = (key: string, envVar: string, problem: string, fix: string) =>
    issues.push({ key, envVar, problem, fix });
  if (settings.kafkaSecurityProtocol?.startsWith('sasl_') === true) {
    if (settings.kafkaSaslUsername === undefined)
      need('kafkaSaslUsername', 'TRIBUTARY_KAFKA_SASL_USERNAME', 'missing', 'set the SASL user name');
    if (settings.kafkaSaslPassword === undefined)
      need(
        'kafkaSaslPassword',
        'TRIBUTARY_KAFKA_SASL_PASSWORD',
        'missing',
        'set it, or _FILE to a file with it',
      );
  }
  if ((settings.kafkaSslCertFile === undefined) !== (settings.kafkaSslKeyFile === undefined))
    need(
      'kafkaSslKeyFile',
      'TRIBUTARY_KAFKA_SSL_KEY_FILE',
      'a client certificate needs its key',
      'set both or neither',
    );
  return issues;
}

/** The librdkafka properties for these settings; a ConfigError when SASL lacks a user or password. */
export function kafkaSecurityProperties(settings: Partial<KafkaSecuritySettings>): KafkaSecurityProperties {
  const issues = missingIssues(settings);
  if (issues.length > 0) {
    const lines = issues.map((i) => `  - ${i.envVar} (${i.key}): ${i.problem}\n      fix: ${i.fix}`);
    throw new ConfigError(`invalid Kafka security configuration:\n${lines.join('\n')}`, issues);
  }
  const protocol = settings.kafkaSecurityProtocol ?? 'plaintext';
  if (protocol === 'plaintext') return {};
  const props: Record<string, string | undefined> = { 'security.protocol': protocol };
  if (protocol.startsWith('sasl_')) {
    props['sasl.mechanisms'] = settings.kafkaSaslMechanism ?? 'SCRAM-SHA-512';
    props['sasl.username'] = settings.kafkaSaslUsername;
    props['sasl.password'] = settings.kafkaSaslPassword;
  }
  if (protocol.endsWith('ssl')) {
    props['ssl.ca.location'] = settings.kafkaSslCaFile;
    props['ssl.endpoint.identification.algorithm'] =
      settings.kafkaSslVerifyHostname === false ? 'none' : 'https';
    props['ssl.certificate.location'] = settings.kafkaSslCertFile;
    props['ssl.key.location'] = settings.kafkaSslKeyFile;
    props['ssl.key.password'] = settings.kafkaSslKeyPassword;
  }
  return Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}

/** Sets the security of every Kafka client this process creates from now on. */
export function useKafkaSecurity(settings: Partial<KafkaSecuritySettings>): void {
  processSecurity = kafkaSecurityProperties(settings);
}

/** `bootstrap.servers` plus this process's security properties: the start of every client config. */
export function kafkaConnection(brokers: string): Record<string, string> {
  return { 'bootstrap.servers': brokers, ...processSecurity };
}

/** Only the security properties (for the KafkaJS-style admin, which takes brokers separately). */
export function kafkaSecurity(): KafkaSecurityProperties {
  return processSecurity;
}
