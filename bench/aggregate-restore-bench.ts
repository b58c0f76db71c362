// The aggregate's restore after a SIGKILL (aggregate_restore_seconds): a real aggregate process runs on
// an aggregate backlog with an allowed lateness longer than the backlog's event time, so every window it
// saw is still open state in its changelogs; it is SIGKILLed half way through. A new process with the
// same instance id is timed from its start until it has restored its stores and committed past the
// killed one's offsets. It must then finish the backlog and the changelogs must hold every backlog
// event exactly once, so the figure never comes from a restore that lost or doubled state.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcessor } from '../infra/pipeline/processor-process.ts';
import type { ProcessorProcess } from '../infra/pipeline/processor-process.ts';
import { findFreePorts } from '../infra/stack/stack.ts';
import { aggregate, windowStartOf } from '../processors/aggregate/aggregate.ts';
import type { WindowStats } from '../processors/aggregate/window-stats.ts';
import { readPartitionsToEnd, withGroupProgress } from '../runtime/kafka/index.ts';
import { createLogger } from '../runtime/observability/index.ts';
import { HttpSchemaRegistry } from '../runtime/serde/index.ts';
import { PartitionWindowedStore, StateManager, buildStoreCodecs } from '../runtime/state/index.ts';
import type { ChangelogReader } from '../runtime/state/index.ts';
import { declaredStores } from '../runtime/time/index.ts';
import { produceAggregateBacklog } from './aggregate-backlog.ts';
import type { AggregateBacklog } from './aggregate-backlog.ts';

const PREFIX = 'bench-aggrestore.';
const INPUT = `${PREFIX}requests.enriched`;
const EVENTS = Number(process.env['BENCH_AGGREGATE_RESTORE_EVENTS'] ?? 400_000);
const EVENT_MINUTES = Number(process.env['BENCH_AGGREGATE_RESTORE_MINUTES'] ?? 120);
/** Beyond the backlog's span (and its 2-10 min late events): no window closes, all seen is state. */
const LATENESS_MS = (EVENT_MINUTES + 60) * 60_000;
/** Most records per transaction (runtime default 5000); smaller writes a changelog more like live traffic's. */
const BATCH = process.env['BENCH_AGGREGATE_RESTORE_BATCH'];
const KILL_AT = 0.5;
const DEADLINE_MS = 600_000;
const STORES = declaredStores(aggregate);
const WINDOWED = Object.keys(STORES).filter((name) => STORES[name]?.kind === 'windowed');

interface RestoredStore {
  store: string;
  records: number;
  bytes: number;
  entries: number;
  ms: number;
  time: number;
}

interface Options {
  brokers: string;
  registryUrl: string;
  workDir: string;
  partitions: number;
  say: (line: string) => void;
}

type Committed = () => Promise<number>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const since = (startedAt: number, at = Date.now()): string => `${((at - startedAt) / 1000).toFixed(1)} s`;

function startCopy(options: Options, copy: number, port: number): ProcessorProcess {
  const env = {
    TRIBUTARY_KAFKA_BROKERS: options.brokers,
    TRIBUTARY_REGISTRY_URL: options.registryUrl,
    TRIBUTARY_TOPIC_PREFIX: PREFIX,
    // One id for both: the new producer fences the killed one's open transaction instead of waiting it out.
    TRIBUTARY_INSTANCE_ID: '0',
    TRIBUTARY_STATE_DIR: join(options.workDir, 'state'),
    TRIBUTARY_LOG_LEVEL: 'info', // the `restored state store` lines
    TRIBUTARY_HTTP_PORT: String(port),
    TRIBUTARY_DEFAULT_PARTITIONS: String(options.partitions),
    TRIBUTARY_ALLOWED_LATENESS_MS: String(LATENESS_MS),
    ...(BATCH === undefined ? {} : { TRIBUTARY_MAX_BATCH_RECORDS: BATCH }),
  };
  return startProcessor('aggregate', env, logFile(options, copy));
}

function logFile(options: Options, copy: number): string {
  return join(options.workDir, `aggregate-restore-${copy}.log`);
}

/** The last `restored state store` line per store (a later rebalance's restore replaces an earlier one). */
function restoredStores(file: string): Map<string, RestoredStore> {
  const restored = new Map<string, RestoredStore>();
  if (!existsSync(file)) return restored; // the log stream opens a moment after the spawn
  const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1); // the last one may be half written
  for (const line of lines) {
    if (!line.includes('"msg":"restored state store ')) continue;
    const entry = JSON.parse(line) as RestoredStore;
    restored.set(entry.store, entry);
  }
  return restored;
}

async function readiness(port: number): Promise<{ ok: boolean; reason: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    return (await response.json()) as { ok: boolean; reason: string };
  } catch {
    return { ok: false, reason: 'not listening yet' };
  }
}

function assertRunning(copy: ProcessorProcess, what: string): void {
  const { exitCode, signalCode } = copy.child;
  if (exitCode !== null || signalCode !== null)
    throw new Error(`${what} exited (${exitCode ?? signalCode}) during the benchmark`);
}

/** SIGKILLs the copy once it has committed KILL_AT of the backlog; returns what it had committed. */
async function killMidBacklog(
  copy: ProcessorProcess,
  committed: Committed,
  options: Options,
  records: number,
): Promise<number> {
  const startedAt = Date.now();
  let saidAt = 0;
  for (let done = 0; done < records * KILL_AT; done = await committed()) {
    assertRunning(copy, 'the first aggregate');
    if (Date.now() - saidAt > 3000) {
      options.say(
        `aggregate restore: first copy committed ${done.toLocaleString()} / ${records.toLocaleString()}`,
      );
      saidAt = Date.now();
    }
    await sleep(100);
  }
  copy.kill('SIGKILL');
  await copy.exited;
  const killedAt = await committed();
  options.say(
    `aggregate restore: SIGKILLed after ${since(startedAt)} at ${killedAt.toLocaleString()} committed`,
  );
  if (killedAt >= records)
    throw new Error(
      'the first aggregate finished before it was killed: raise BENCH_AGGREGATE_RESTORE_EVENTS',
    );
  return killedAt;
}

/** Says each store's restore once, as its line appears in the new copy's log. */
function sayRestored(
  restored: Map<string, RestoredStore>,
  said: Set<string>,
  startedAt: number,
  options: Options,
): void {
  for (const [name, r] of restored) {
    if (said.has(`${name}/${r.time}`)) continue;
    said.add(`${name}/${r.time}`);
    options.say(
      `aggregate restore: ${since(startedAt, r.time)} restored ${name}: ${r.records.toLocaleString()} records, ` +
        `${(r.bytes / 1e6).toFixed(1)} MB, ${r.entries.toLocaleString()} entries in ${r.ms} ms`,
    );
  }
}

/** Times the new copy to restored and committing again, then follows it to the end of the backlog. */
async function timeRestore(
  options: Options,
  committed: Committed,
  killedAt: number,
  records: number,
): Promise<{ seconds: number; restored: RestoredStore[] }> {
  const [port = 0] = await findFreePorts(1);
  const startedAt = Date.now();
  const copy = startCopy(options, 1, port);
  let processing: { at: number; restored: RestoredStore[] } | undefined;
  let phase = '';
  const said = new Set<string>();
  try {
    while (Date.now() - startedAt < DEADLINE_MS) {
      assertRunning(copy, 'the restored aggregate');
      const [done, ready] = [await committed(), await readiness(port)];
      const restored = restoredStores(logFile(options, 1));
      sayRestored(restored, said, startedAt, options);
      // Said when it changes, not when only its numbers do (lag).
      const now = ready.reason.replace(/\d+/g, '#');
      if (now !== phase) options.say(`aggregate restore: ${since(startedAt)} /readyz: ${ready.reason}`);
      phase = now;
      if (processing === undefined && done > killedAt) {
        processing = { at: Date.now(), restored: [...restored.values()] };
        options.say(`aggregate restore: ${since(startedAt)} committing again (${done.toLocaleString()})`);
      }
      if (processing !== undefined && done >= records && ready.ok) {
        options.say(`aggregate restore: ${since(startedAt)} finished the backlog, ready; stopping it`);
        copy.kill('SIGTERM');
        const exit = await copy.exited;
        if (exit.code !== 0)
          throw new Error(`the restored aggregate stopped with ${exit.code ?? exit.signal}`);
        return { seconds: (processing.at - startedAt) / 1000, restored: processing.restored };
      }
      await sleep(100);
    }
    throw new Error('the restored aggregate did not finish the backlog in time');
  } finally {
    copy.kill('SIGKILL'); // nothing once it has stopped; on a failure, no copy outlives the bench
  }
}

/** Restores the final changelogs with the runtime's own code: every backlog event in exactly one window. */
async function checkFinalState(options: Options, backlog: AggregateBacklog): Promise<void> {
  const reader: ChangelogReader = (topic, partitions, onRecord) =>
    readPartitionsToEnd({ brokers: options.brokers, topic, partitions, timeoutMs: 120_000 }, (m) =>
      onRecord(m.partition, m.key === undefined || m.key === null ? null : Buffer.from(m.key), m.value),
    );
  const log = createLogger({ name: 'bench', level: 'silent', pretty: false });
  const changelogTopicFor = (s: string): string => `${PREFIX}aggregate.${s}.changelog`;
  const registry = new HttpSchemaRegistry(options.registryUrl);
  const codecs = await buildStoreCodecs('aggregate', STORES, { registry, changelogTopicFor });
  const state = new StateManager({
    declarations: STORES,
    changelogTopicFor,
    readChangelog: reader,
    log,
    codecs,
  });
  const partitions = [...Array(options.partitions).keys()];
  await state.sync(partitions);
  let [windows, requests, corrections] = [0, 0, 0];
  for (const p of partitions) {
    const store = state.store('windows', p);
    if (!(store instanceof PartitionWindowedStore)) throw new TypeError('not a windowed store');
    for (const entry of store.entries()) {
      windows++;
      requests += (entry.value as WindowStats).requests;
    }
    corrections += state.store('corrections', p).size;
  }
  const expected = new Set(
    backlog.events.map(({ value: e }) => `${e.service}|${e.endpoint}|${e.region}|${windowStartOf(e.ts)}`),
  );
  if (windows !== expected.size || requests !== backlog.records || corrections !== 0)
    throw new Error(
      `after the restore the aggregate held ${windows} windows of ${requests} requests (${corrections} corrections); ` +
        `the backlog makes ${expected.size} windows of ${backlog.records}`,
    );
  options.say(`aggregate restore: final state checked: ${windows.toLocaleString()} windows, each event once`);
}

export async function benchAggregateRestore(options: Options): Promise<Record<string, number>> {
  options.say(
    `aggregate restore: ${EVENTS.toLocaleString()} EnrichedRequests over ${EVENT_MINUTES} min of event time, ` +
      `allowed lateness ${LATENESS_MS / 60_000} min (every window stays open)`,
  );
  const backlog = await produceAggregateBacklog({
    brokers: options.brokers,
    registryUrl: options.registryUrl,
    topic: INPUT,
    partitions: options.partitions,
    events: EVENTS,
    eventMinutes: EVENT_MINUTES,
  });
  const [port = 0] = await findFreePorts(1);
  const first = startCopy(options, 0, port);
  const { seconds, restored } = await withGroupProgress(
    options.brokers,
    `${PREFIX}aggregate`,
    async (progress) => {
      const committed = async (): Promise<number> =>
        (await progress(INPUT)).reduce((sum, p) => sum + Math.max(0, p.committed), 0);
      try {
        const killedAt = await killMidBacklog(first, committed, options, backlog.records);
        return await timeRestore(options, committed, killedAt, backlog.records);
      } finally {
        first.kill('SIGKILL');
      }
    },
  );
  await checkFinalState(options, backlog);
  const windows = restored.filter((r) => WINDOWED.includes(r.store)).reduce((sum, r) => sum + r.entries, 0);
  if (windows === 0) throw new Error('the killed aggregate held no open windows: nothing was restored');
  return {
    aggregate_restore_seconds: seconds,
    // Of those seconds, reading the changelogs (the rest: process start, group join, first batch).
    aggregate_restore_read_seconds: restored.reduce((sum, r) => sum + r.ms, 0) / 1000,
    aggregate_restore_records: restored.reduce((sum, r) => sum + r.records, 0),
    aggregate_restore_mb: restored.reduce((sum, r) => sum + r.bytes, 0) / 1e6,
    aggregate_restore_windows: windows,
  };
}
