// Restore cost of ingest's dedup store against its state, not its history: writes hours of stream time
// of a recent-ids changelog through the real store code, then times restores of one partition, before
// and after the broker's log cleaner compacts away the expired buckets.
import { createLogger } from '../runtime/observability/index.ts';
import { readPartitionsToEnd } from '../runtime/kafka/index.ts';
import type { OutgoingMessage } from '../runtime/kafka/index.ts';
import { StateManager, changelogTopicConfig, recentIds } from '../runtime/state/index.ts';
import type { ChangelogReader } from '../runtime/state/index.ts';
import { PartitionRecentIds } from '../runtime/state/recent-ids.ts';
import { createTopics, produceRecords } from '../runtime/testing/kafka-test-kit.ts';
import type { TestRecord } from '../runtime/testing/kafka-test-kit.ts';

const HORIZON_MS = 10 * 60_000;
const HISTORY_MS = Number(process.env['BENCH_RESTORE_HISTORY_H'] ?? 2) * 3_600_000;
const IDS_PER_S = Number(process.env['BENCH_RESTORE_RATE'] ?? 1000);
const BATCH_IDS = 1000;
const COMPACTION_WAIT_MS = Number(process.env['BENCH_RESTORE_WAIT_S'] ?? 240) * 1000;
const log = createLogger({ name: 'bench', level: 'silent', pretty: false });
const declaration = recentIds({ horizonMs: () => HORIZON_MS, maxIdsPerPartition: () => 10_000_000 });

interface Restore {
  seconds: number;
  records: number;
  mb: number;
  ids: number;
}

function store(state: StateManager): PartitionRecentIds {
  const held = state.store('recentEventIds', 0);
  if (!(held instanceof PartitionRecentIds)) throw new TypeError('not a recent-ids store');
  return held;
}

function toRecord(m: OutgoingMessage): TestRecord {
  const record: TestRecord = { key: m.key?.toString() ?? null, value: m.value, partition: 0 };
  if (m.timestamp !== undefined) record.timestamp = m.timestamp;
  return record;
}

async function restore(brokers: string, topic: string): Promise<Restore> {
  let records = 0;
  let bytes = 0;
  const reader: ChangelogReader = (t, partitions, onRecord) =>
    readPartitionsToEnd({ brokers, topic: t, partitions, timeoutMs: 600_000 }, (m) => {
      records++;
      bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
      onRecord(m.partition, m.key === undefined || m.key === null ? null : Buffer.from(m.key), m.value);
    });
  const state = new StateManager({
    declarations: { recentEventIds: declaration },
    changelogTopicFor: () => topic,
    readChangelog: reader,
    log,
  });
  const started = performance.now();
  await state.sync([0]);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, records, mb: bytes / 1e6, ids: store(state).size };
}

/** Writes HISTORY_MS of stream time ending now at IDS_PER_S; returns the live state and what was written. */
async function writeHistory(
  brokers: string,
  topic: string,
): Promise<{ ids: number; bytes: number; mb: number }> {
  const state = new StateManager({
    declarations: { recentEventIds: declaration },
    changelogTopicFor: () => topic,
    readChangelog: undefined,
    log,
  });
  await state.sync([0]);
  const seen = store(state);
  const start = Date.now() - HISTORY_MS;
  const total = Math.floor((HISTORY_MS / 1000) * IDS_PER_S);
  let written: TestRecord[] = [];
  let writtenBytes = 0;
  for (let i = 0; i < total; i++) {
    seen.add(`evt-${i.toString(36)}-9a7f-4c1e`, start + Math.floor((i * 1000) / IDS_PER_S));
    if (i % BATCH_IDS !== BATCH_IDS - 1 && i !== total - 1) continue;
    for (const m of state.changelogMessages()) {
      written.push(toRecord(m));
      writtenBytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
    }
    state.commit();
    if (written.length >= 2000) {
      await produceRecords(brokers, topic, written);
      written = [];
    }
  }
  await produceRecords(brokers, topic, written);
  return { ids: seen.size, bytes: seen.bytes, mb: writtenBytes / 1e6 };
}

export async function benchRestore(options: {
  brokers: string;
  say: (line: string) => void;
}): Promise<Record<string, number>> {
  const topic = 'bench.ingest.recentEventIds.changelog';
  const { cleanupPolicy, segmentMs, extra } = changelogTopicConfig(declaration, {});
  await createTopics(options.brokers, [
    {
      name: topic,
      partitions: 1,
      cleanupPolicy,
      ...(segmentMs === undefined ? {} : { segmentMs }),
      ...(extra === undefined ? {} : { extraConfig: extra }),
    },
  ]);
  const hours = HISTORY_MS / 3_600_000;
  options.say(`restore: writing ${hours} h of a recent-ids changelog at ${IDS_PER_S} ids/s (10 min horizon)`);
  const history = await writeHistory(options.brokers, topic);
  const before = await restore(options.brokers, topic);
  options.say(
    `restore before compaction: ${before.records} records, ${before.mb.toFixed(1)} MB, ${before.seconds.toFixed(1)} s`,
  );
  let after = before;
  const deadline = Date.now() + COMPACTION_WAIT_MS;
  const stateMb = (history.ids * 8) / 1e6;
  while (after.mb > 2 * stateMb && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    after = await restore(options.brokers, topic);
    options.say(
      `restore: ${after.records} records, ${after.mb.toFixed(1)} MB, ${after.seconds.toFixed(1)} s`,
    );
  }
  if (after.ids !== history.ids)
    throw new TypeError(`restored ${after.ids} ids, the store held ${history.ids}`);
  return {
    restore_state_ids: history.ids,
    restore_state_mb: stateMb,
    restore_state_memory_bytes_per_id: history.bytes / history.ids,
    restore_history_hours: hours,
    restore_changelog_written_mb: history.mb,
    restore_uncompacted_read_mb: before.mb,
    restore_uncompacted_seconds: before.seconds,
    restore_read_records: after.records,
    restore_read_mb: after.mb,
    restore_seconds: after.seconds,
    // The previous design: one JSON record (~70 bytes) per id, kept 24 h by retention, all read back.
    restore_old_design_records_24h: IDS_PER_S * 86_400,
  };
}
