// The keys every processor shares. A processor's own schema is merged on top of these.
import { z } from 'zod';
import { securityConfigShape } from './security-config.ts';

const brokerList = z.string().regex(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, 'expected host:port[,host:port…]');

export const runtimeConfigShape = {
  kafkaBrokers: brokerList
    .default('127.0.0.1:9092')
    .describe('Kafka bootstrap servers, host:port[,host:port…]'),
  registryUrl: z
    .url()
    .default('http://127.0.0.1:8081/apis/ccompat/v7')
    .describe('Confluent-compatible schema registry base URL'),
  topicPrefix: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ - only')
    .default('')
    .describe('prefix for every topic, consumer group and transactional id (isolates test runs)'),
  defaultPartitions: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(6)
    .describe('partitions of topics this process has to create'),
  instanceId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - only, at most 64')
    .optional()
    .describe(
      'stable id of this copy (its transactional id suffix); unset = the lowest free slot on this machine',
    ),
  httpHost: z.string().default('127.0.0.1').describe('address the health/metrics server listens on'),
  httpPort: z
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(0)
    .describe('health/metrics port; 0 picks a free one (logged at start)'),
  logLevel: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])
    .default('info')
    .describe('pino log level'),
  maxBatchRecords: z
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(5000)
    .describe('most input records per transaction'),
  maxBatchWaitMs: z
    .number()
    .int()
    .min(1)
    .max(60_000)
    .default(100)
    .describe('longest wait for the first record of a batch, in ms'),
  transactionTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(900_000)
    .default(30_000)
    .describe('Kafka transaction.timeout.ms'),
  sessionTimeoutMs: z
    .number()
    .int()
    .min(6000)
    .max(300_000)
    .default(10_000)
    .describe('consumer session timeout in ms: how fast a dead copy loses its partitions'),
  shutdownTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(300_000)
    .default(20_000)
    .describe('longest clean shutdown before the process gives up, in ms'),
  readyMaxLag: z
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe('records of lag above which /readyz says not ready'),
  maxMessageBytes: z
    .number()
    .int()
    .min(10_000)
    .max(1_000_000)
    .default(1_000_000)
    .describe(
      "largest record (key + value) this process writes, in bytes; at most librdkafka's message.max.bytes " +
        "(1,000,000). Lower it to a topic's max.message.bytes when that is smaller. A dead letter over it keeps " +
        'a truncated original; an output over it is dead-lettered',
    ),
  startupDeadlineMs: z
    .number()
    .int()
    .min(1000)
    .max(3_600_000)
    .default(120_000)
    .describe(
      'how long a starting process waits, with backoff, for Kafka and the schema registry to answer ' +
        'before it stops (exit 2) saying what to check, in ms',
    ),
  idleTimeoutMs: z
    .number()
    .int()
    .min(100)
    .default(30_000)
    .describe(
      'event time: wall-clock ms without records after which an upstream source stops holding a ' +
        "partition's progress back, and a partition with none moves on by the clock (windows close)",
    ),
  stateDir: z
    .string()
    .min(1)
    .default('.tributary/state')
    .describe('directory for instance slots and local state'),
  ...securityConfigShape,
};

export const runtimeConfigSchema = z.object(runtimeConfigShape);
export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;
