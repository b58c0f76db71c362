// Issue 17: the settings for a secured cluster become librdkafka properties; secrets may come from files
// and are never echoed back in a config error.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config.ts';
import { runtimeConfigSchema } from '../config/runtime-config.ts';
import { ConfigError } from '../errors.ts';
import { kafkaSecurityProperties } from './client-security.ts';

const dir = mkdtempSync(join(tmpdir(), 'tributary-secrets-unit-'));

describe('Kafka security settings', () => {
  it('read a secret from its _FILE variant and map SASL_SSL + SCRAM to librdkafka properties', () => {
    const file = join(dir, 'password');
    writeFileSync(file, 'from-a-file\n');
    const config = loadConfig('t', runtimeConfigSchema, {
      env: {
        TRIBUTARY_KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
        TRIBUTARY_KAFKA_SASL_USERNAME: 'ingest',
        TRIBUTARY_KAFKA_SASL_PASSWORD_FILE: file,
        TRIBUTARY_KAFKA_SSL_CA_FILE: '/etc/ca.pem',
      },
    });
    expect(kafkaSecurityProperties(config)).toEqual({
      'security.protocol': 'sasl_ssl',
      'sasl.mechanisms': 'SCRAM-SHA-512',
      'sasl.username': 'ingest',
      'sasl.password': 'from-a-file',
      'ssl.ca.location': '/etc/ca.pem',
      'ssl.endpoint.identification.algorithm': 'https',
    });
    expect(kafkaSecurityProperties(loadConfig('t', runtimeConfigSchema, { env: {} }))).toEqual({});
  });

  it('refuse SASL without a password, naming the key', () => {
    expect(() =>
      kafkaSecurityProperties({ kafkaSecurityProtocol: 'sasl_ssl', kafkaSaslUsername: 'u' }),
    ).toThrow(/TRIBUTARY_KAFKA_SASL_PASSWORD/);
  });

  it('never echo a secret in a config error', () => {
    let error: unknown;
    try {
      loadConfig('t', runtimeConfigSchema, {
        env: {
          TRIBUTARY_KAFKA_SASL_PASSWORD: '',
          TRIBUTARY_REGISTRY_PASSWORD: '',
          TRIBUTARY_HTTP_PORT: 'hunter2',
        },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('TRIBUTARY_REGISTRY_PASSWORD');
    expect(message).toContain('not shown: a secret');
    expect(message).toContain('"hunter2"'); // a non-secret key's bad value is still shown
  });
});
