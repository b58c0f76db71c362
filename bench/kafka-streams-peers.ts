// The Kafka Streams peers (bench/kafka-streams, built by setup into one jar): started as a JVM on the same
// backlog as our processor and timed by the same clock (processor-throughput.ts: first commit to all
// committed), exactly_once_v2 with 100 ms commits. On SIGTERM the app prints one JSON line with the
// records it processed and the late records its windows dropped (task metric dropped-records-total).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, javaBinary } from '../infra/stack/paths.ts';
import { createTopics } from '../runtime/testing/kafka-test-kit.ts';
import { timeCommits } from './processor-throughput.ts';
import type { ThroughputResult } from './processor-throughput.ts';

/**
 * `aggregate`: windows in a partition-local store, no repartition (what our aggregate does);
 * `aggregate-dsl`: the idiomatic DSL (groupBy the new key → repartition topic → windowedBy).
 */
export type PeerMode = 'passthrough' | 'aggregate' | 'aggregate-dsl';

export interface PeerResult extends ThroughputResult {
  /** Late records the windows dropped (0 for the pass-through). */
  droppedRecords: number;
}

/** The repartition topic the DSL aggregate's re-keying creates (Grouped name in WindowedAggregate.java). */
export function repartitionTopic(applicationId: string): string {
  return `${applicationId}-by-service-endpoint-region-repartition`;
}

function peersJar(): string {
  const jar = join(cacheDir(), 'kafka-streams', 'kafka-streams-peers.jar');
  if (!existsSync(jar))
    throw new Error(`no Kafka Streams peers jar at ${jar}. To fix: run ./tributary setup`);
  return jar;
}

function parseSummary(stdout: string): { droppedRecords: number } {
  const line = stdout.split('\n').find((l) => l.includes('"kafka_streams_summary"'));
  if (line === undefined) throw new Error('the Kafka Streams peer printed no summary line');
  const summary = JSON.parse(line) as { dropped_records?: number };
  return { droppedRecords: summary.dropped_records ?? 0 };
}

export async function measureKafkaStreams(options: {
  mode: PeerMode;
  brokers: string;
  applicationId: string;
  inputTopic: string;
  outputTopic: string;
  partitions: number;
  records: number;
  workDir: string;
  graceMs?: number;
}): Promise<PeerResult> {
  await createTopics(options.brokers, [
    { name: options.outputTopic, partitions: options.partitions, cleanupPolicy: 'delete' },
  ]);
  const stateDir = join(options.workDir, 'kafka-streams', options.applicationId);
  mkdirSync(stateDir, { recursive: true });
  const args = [
    ...['-Xms256m', '-Xmx1g', '-jar', peersJar(), options.mode],
    ...['--brokers', options.brokers, '--application-id', options.applicationId],
    ...['--input', options.inputTopic, '--output', options.outputTopic, '--state-dir', stateDir],
    ...(options.graceMs === undefined ? [] : ['--grace-ms', String(options.graceMs)]),
  ];
  const child = spawn(javaBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.pipe(createWriteStream(join(options.workDir, `${options.applicationId}.log`)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const timing = await timeCommits({
      name: `Kafka Streams ${options.mode}`,
      child,
      brokers: options.brokers,
      group: options.applicationId,
      topic: options.inputTopic,
      records: options.records,
      alsoCaughtUp: options.mode === 'aggregate-dsl' ? [repartitionTopic(options.applicationId)] : [],
    });
    child.kill('SIGTERM');
    await exited;
    return { ...timing, ...parseSummary(stdout) };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
