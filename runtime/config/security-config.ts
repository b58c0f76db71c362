// The keys for secured clusters: SASL and TLS to Kafka, basic auth and TLS to the schema registry.
// Every secret (a key named *Password) may also be given as a file: TRIBUTARY_<KEY>_FILE.
import { z } from 'zod';

const optionalText = (describe: string) => z.string().min(1).optional().describe(describe);
const flag = (fallback: boolean, describe: string) => z.boolean().default(fallback).describe(describe);

export const securityConfigShape = {
  kafkaSecurityProtocol: z
    .enum(['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'])
    .default('plaintext')
    .describe(
      'how to talk to the brokers: plaintext, ssl, sasl_plaintext or sasl_ssl (managed Kafka: sasl_ssl)',
    ),
  kafkaSaslMechanism: z
    .enum(['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'])
    .default('SCRAM-SHA-512')
    .describe('SASL mechanism: SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN'),
  kafkaSaslUsername: optionalText('SASL user name (sasl_* protocols)'),
  kafkaSaslPassword: optionalText(
    'SASL password (sasl_* protocols); or a file: TRIBUTARY_KAFKA_SASL_PASSWORD_FILE',
  ),
  kafkaSslCaFile: optionalText(
    "PEM file of the CA(s) that signed the brokers' certificates; unset = the system CAs",
  ),
  kafkaSslVerifyHostname: flag(true, "check that a broker's certificate names the host connected to"),
  kafkaSslCertFile: optionalText('PEM client certificate for mutual TLS (with TRIBUTARY_KAFKA_SSL_KEY_FILE)'),
  kafkaSslKeyFile: optionalText('PEM private key of the client certificate (mutual TLS)'),
  kafkaSslKeyPassword: optionalText(
    'password of the client key, if encrypted; or TRIBUTARY_KAFKA_SSL_KEY_PASSWORD_FILE',
  ),
  registryUsername: optionalText('schema registry basic-auth user (with TRIBUTARY_REGISTRY_PASSWORD)'),
  registryPassword: optionalText(
    'schema registry basic-auth password; or a file: TRIBUTARY_REGISTRY_PASSWORD_FILE',
  ),
  registryCaFile: optionalText("PEM file of the CA that signed the registry's https certificate"),
  registryAutoRegister: flag(
    true,
    'register missing schemas at start; false = only check them (register with `./tributary schemas register`)',
  ),
};

/** Only the Kafka keys, for tools that talk to Kafka and nothing else. */
export const kafkaSecurityShape = Object.fromEntries(
  Object.entries(securityConfigShape).filter(([key]) => key.startsWith('kafka')),
) as Omit<typeof securityConfigShape, `registry${string}`>;

export type SecurityConfig = z.infer<z.ZodObject<typeof securityConfigShape>>;
