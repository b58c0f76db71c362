// The replay of a previous owner's open insert intents (sink-resume.ts): while one is open, its whole
// range is fetched, whatever the batch limit, and written again as the insert it was (its offsets, its
// token), before anything else of its partition. A replay not fetched in full is left to the next owner.
import type { Message } from '../../kafka/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { PendingBatch } from './sink-batch.ts';
import { partitionKeyOf } from './sink-flush.ts';
import type { ResumePoint } from './sink-resume.ts';
import { replayFetched } from './sink-resume.ts';

/** True while an open intent of a previous owner has not been written again. */
export function replaying(points: ReadonlyMap<string, ResumePoint>): boolean {
  for (const point of points.values()) if (point.replay !== undefined) return true;
  return false;
}

/** True once every range to replay is in the pending batch (`positions`: the consumer's next offsets). */
export function allReplaysFetched(
  points: ReadonlyMap<string, ResumePoint>,
  positions: ReadonlyMap<string, number>,
): boolean {
  for (const [key, point] of points) if (!replayFetched(point, positions.get(key))) return false;
  return true;
}

export interface ReplayDeps {
  points: Map<string, ResumePoint>;
  pending: PendingBatch<Message>;
  log: Logger;
  /** Writes `messages` and commits them (the loop's flush, with no consumer positions of its own). */
  flush(messages: Message[]): Promise<void>;
}

/**
 * Writes each open intent of a previous owner again as that same insert (its offsets, its token) and
 * commits those partitions through its end; the records after it stay pending for the next flush.
 */
export async function flushReplays(deps: ReplayDeps): Promise<void> {
  const { points, pending, log } = deps;
  const replays = new Map<string, number>();
  for (const [key, point] of points)
    if (point.replay !== undefined) replays.set(key, point.replay.lastOffset);
  const upTo = (m: Message): number | undefined => replays.get(partitionKeyOf(m.topic, m.partition));
  const messages = pending.takeWhere((m) => m.offset <= (upTo(m) ?? -1));
  log.info(
    { partitions: [...replays.keys()], records: messages.length },
    "writing a previous owner's unfinished inserts again, as they were",
  );
  if (messages.length > 0) await deps.flush(messages);
  // A range the log no longer holds (retention) leaves nothing to repeat: it is not waited for again.
  for (const key of replays.keys()) {
    const point = points.get(key);
    if (point !== undefined) points.set(key, { ...point, replay: undefined });
  }
}
