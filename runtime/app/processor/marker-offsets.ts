// A topic written in transactions ends each transaction with a commit marker, which takes an offset and
// is never handed to the consumer. Offsets committed from records (last record + 1) then stop one short
// of the end for good, and the group's lag never reaches 0. When a turn brings no records, the consumer's
// positions say how far it has read, markers included: what moved past the committed offsets is
// committed on its own, as the sink does (../sink/sink-loop.ts).
import type { TopicPartitionOffset } from '../../kafka/index.ts';

/** Partitions (keys `topic/partition`) whose position is past what this copy last committed for them. */
export function positionsPastCommitted(
  positions: ReadonlyMap<string, number>,
  committed: ReadonlyMap<string, number>,
): TopicPartitionOffset[] {
  const moved: TopicPartitionOffset[] = [];
  for (const [key, offset] of positions) {
    if ((committed.get(key) ?? -1) >= offset) continue;
    const cut = key.lastIndexOf('/');
    moved.push({ topic: key.slice(0, cut), partition: Number(key.slice(cut + 1)), offset });
  }
  return moved;
}
