// A consumer whose reads of the group's committed offsets fail as they do while the group coordinator is
// unreachable (a stalled broker), until the test lets them through: for loops that retry such a read.
import { TributaryError } from '../errors.ts';
import { InputConsumer } from '../kafka/index.ts';
import type { TopicPartition, TopicPartitionOffset } from '../kafka/index.ts';

export class CommittedOffsetsUnavailable extends InputConsumer {
  failedReads = 0;
  private available = false;

  /** From now on the reads go to the broker. */
  makeAvailable(): void {
    this.available = true;
  }

  // An empty assignment is answered without asking the coordinator, as the real read is.
  override async committed(partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
    if (this.available || partitions.length === 0) return super.committed(partitions);
    this.failedReads++;
    throw new TributaryError('TRIBUTARY_KAFKA_TRANSIENT', 'injected: the group coordinator is unreachable');
  }
}

/** Resolves once `condition()` holds; rejects with `what` after `timeoutMs`. */
export async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
