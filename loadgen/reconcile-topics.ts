// Compares ingest's topics with a run's ground truth: valid events, dead letters by reason and
// duplicates (every raw offset must be exactly one of the three).
import { AvroDecoder, HttpSchemaRegistry } from '../runtime/serde/index.ts';
import { committedTotal, readPartitionsToEnd } from '../runtime/kafka/index.ts';
import type { DeadLetterValue } from '../runtime/index.ts';
import type { Truth } from './truth.ts';

export interface ReconcileCheck {
  check: string;
  expected: number;
  actual: number;
  ok: boolean;
}

export interface TopicsReconciliation {
  ok: boolean;
  checks: ReconcileCheck[];
  validEventIds: string[];
}

export interface ReconcileTopicsOptions {
  brokers: string;
  registryUrl: string;
  topicPrefix: string;
  partitions: number;
  truth: Truth;
}

async function readKeys(
  brokers: string,
  topic: string,
  partitions: number,
): Promise<{ keys: string[]; values: Buffer[] }> {
  const keys: string[] = [];
  const values: Buffer[] = [];
  const all = Array.from({ length: partitions }, (_, p) => p);
  await readPartitionsToEnd({ brokers, topic, partitions: all }, (message) => {
    keys.push(message.key?.toString() ?? '');
    if (message.value !== null) values.push(message.value);
  });
  return { keys, values };
}

export async function reconcileIngestTopics(options: ReconcileTopicsOptions): Promise<TopicsReconciliation> {
  const { brokers, topicPrefix, partitions, truth } = options;
  const valid = await readKeys(brokers, `${topicPrefix}requests.valid`, partitions);
  const dlq = await readKeys(brokers, `${topicPrefix}requests.dlq`, partitions);
  const decoder = AvroDecoder.forWriterSchema<DeadLetterValue>(new HttpSchemaRegistry(options.registryUrl));
  await decoder.prepare(dlq.values);
  const byReason = new Map<string, number>();
  for (const value of dlq.values) {
    const reason = decoder.decode(value).reason;
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }
  const inputOffsets = await committedTotal(brokers, `${topicPrefix}ingest`, `${topicPrefix}requests.raw`);
  const checks: ReconcileCheck[] = [
    { check: 'raw records consumed', expected: truth.acknowledged.deliveries, actual: inputOffsets },
    { check: 'valid events', expected: truth.valid_events, actual: valid.keys.length },
    { check: 'distinct valid event ids', expected: truth.valid_events, actual: new Set(valid.keys).size },
    {
      check: 'dead letters',
      expected: Object.values(truth.dead_letters).reduce((a, b) => a + b, 0),
      actual: dlq.keys.length,
    },
    ...Object.entries(truth.dead_letters).map(([reason, expected]) => ({
      check: `dead letters: ${reason}`,
      expected,
      actual: byReason.get(reason) ?? 0,
    })),
    {
      check: 'duplicates dropped',
      expected: truth.duplicates,
      actual: inputOffsets - valid.keys.length - dlq.keys.length,
    },
  ].map((c) => ({ ...c, ok: c.expected === c.actual }));
  for (const [reason, actual] of byReason) {
    if (!(reason in truth.dead_letters))
      checks.push({ check: `dead letters: ${reason} (unexpected reason)`, expected: 0, actual, ok: false });
  }
  return { ok: checks.every((c) => c.ok), checks, validEventIds: valid.keys };
}
