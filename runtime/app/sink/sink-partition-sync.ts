// What a sink copy does after an assignment change, before it consumes: read the group's committed
// offsets, claim the partitions in the store, learn from the store's ledger and tables where each
// partition resumes (sink-resume.ts), and seek there. Rebalances are served throughout, since librdkafka
// will not rejoin a group until the copy has handled the revoke.
import { isTributaryError } from '../../errors.ts';
import type { InputConsumer, TopicPartitionOffset } from '../../kafka/index.ts';
import { sleep } from '../../kafka/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { SinkConnector, SinkPartition } from './sink-definition.ts';
import type { BoundTopic } from './sink-flush.ts';
import { partitionKeyOf } from './sink-flush.ts';
import type { ResumePoint } from './sink-resume.ts';
import { resumeFrom } from './sink-resume.ts';
import type { StoreGate } from './sink-store-gate.ts';

export interface PartitionSyncDeps {
  consumer: InputConsumer;
  connector: SinkConnector;
  /** This copy's identity in the store's claims. */
  writer: string;
  bound: ReadonlyMap<string, BoundTopic>;
  gate: StoreGate;
  log: Logger;
  retryBackoffMs: number;
}

/** The assignment of one epoch, sought to where the store says each partition resumes. */
export interface SyncedAssignment {
  epoch: number;
  points: Map<string, ResumePoint>;
  /** The group's committed offset per `topic/partition` (-1 where none). */
  committedAt: Map<string, number>;
  positions: TopicPartitionOffset[];
}

/**
 * Syncs the consumer's current assignment. Undefined when it could not (Kafka or the store refused,
 * after a backoff) or when the assignment changed meanwhile: the caller tries again on its next turn.
 */
export async function syncAssignment(deps: PartitionSyncDeps): Promise<SyncedAssignment | undefined> {
  const { consumer, log } = deps;
  const epoch = consumer.assignmentEpoch;
  let committed: TopicPartitionOffset[];
  try {
    committed = await consumer.servingRebalances(consumer.committed([...consumer.assignment]));
  } catch (error) {
    // Kafka's trouble, not the store's: back off and sync again, the store stays marked as it is.
    if (!isTributaryError(error) || !error.retryable) throw error;
    log.warn({ err: error }, 'could not read the committed offsets from Kafka; retrying');
    await consumer.servingRebalances(sleep(deps.retryBackoffMs));
    return undefined;
  }
  if (consumer.assignmentEpoch !== epoch) return undefined;
  const resumed = await resumePoints(deps, committed);
  // Never seek partitions a rebalance took meanwhile: the seek's fallback would assign them.
  if (resumed === undefined || consumer.assignmentEpoch !== epoch) return undefined;
  await consumer.seekTo(resumed.positions);
  if (consumer.assignmentEpoch !== epoch) return undefined;
  const committedAt = new Map(committed.map((c) => [partitionKeyOf(c.topic, c.partition), c.offset]));
  return { epoch, committedAt, ...resumed };
}

/** Claims the partitions and reads what the store holds; undefined (after a backoff) if it cannot. */
async function resumePoints(
  deps: PartitionSyncDeps,
  committed: readonly TopicPartitionOffset[],
): Promise<{ points: Map<string, ResumePoint>; positions: TopicPartitionOffset[] } | undefined> {
  const { connector, bound, writer, gate, log } = deps;
  const partitions = committed.map((c): SinkPartition => ({
    ...c,
    target: bound.get(c.topic)?.binding.target ?? '',
    committed: c.offset,
  }));
  let held: Awaited<ReturnType<SinkConnector['storedPartitions']>>;
  try {
    await connector.claim(writer, partitions);
    held = await connector.storedPartitions(partitions);
  } catch (error) {
    if (!isTributaryError(error) || !error.retryable) throw error;
    gate.markUnavailable(error);
    log.warn({ err: error }, 'could not read positions from the store; retrying');
    await deps.consumer.servingRebalances(sleep(deps.retryBackoffMs));
    return undefined;
  }
  gate.markAvailable();
  const points = new Map<string, ResumePoint>();
  const positions = partitions.map((p): TopicPartitionOffset => {
    const key = partitionKeyOf(p.topic, p.partition);
    const stored = held.get(key) ?? { rejected: [] };
    const { point, seek } = resumeFrom(stored, p.committed, connector.singleWriter === true);
    points.set(key, point);
    return { topic: p.topic, partition: p.partition, offset: seek };
  });
  return { points, positions };
}
