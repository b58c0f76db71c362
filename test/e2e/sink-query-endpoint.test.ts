// The sink's query endpoint under a heavy reader, with real processes: while a memory-hungry query and a
// CPU-bound one run on the endpoint, the sink keeps inserting (rows keep landing) and its RSS stays within
// the per-query memory cap; then SIGTERM during a runaway query ends the process within its shutdown bound
// (the bug: it logged "stopped" and stayed alive at 100% CPU for minutes).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startProcessor } from '../../infra/pipeline/processor-process.ts';
import {
  deleteTopicsWithPrefix,
  produceRecords,
  uniquePrefix,
} from '../../runtime/testing/kafka-test-kit.ts';
import {
  baseEnv,
  createPipelineTopics,
  freePort,
  httpQuery,
  rawEvents,
  sleep,
  waitFor,
} from './sink-support.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-sink-query-'));
const MEMORY_CAP = 256 << 20;
const RUNAWAY = 'SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1';

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, 't-sinkq-');
});

function rssBytes(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid ?? 0}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

describe('clickhouse sink with a heavy reader on its query endpoint', () => {
  it('keeps inserting within its memory cap, and exits promptly on SIGTERM during a runaway query', async () => {
    const prefix = uniquePrefix('sinkq');
    const env = baseEnv(brokers, registryUrl, prefix, join(workDir, 'state'));
    await createPipelineTopics(brokers, prefix, 2);
    const queryPort = await freePort();
    const sinkEnv = {
      ...env,
      TRIBUTARY_HTTP_PORT: String(await freePort()),
      TRIBUTARY_QUERY_PORT: String(queryPort),
      TRIBUTARY_QUERY_MAX_MEMORY_BYTES: String(MEMORY_CAP),
      TRIBUTARY_QUERY_MAX_EXECUTION_TIME_S: '120',
      TRIBUTARY_CLICKHOUSE_DATA_DIR: join(workDir, 'clickhouse'),
    };
    const ingest = startProcessor('ingest', env, join(workDir, 'ingest.log'));
    const sink = startProcessor('sink', sinkEnv, join(workDir, 'sink.log'));
    const url = `http://127.0.0.1:${queryPort}`;
    const count = async (): Promise<number> => Number(await httpQuery(url, 'SELECT count() FROM requests'));
    const load = rawEvents(60_000, 1_000_000, prefix);
    await produceRecords(brokers, prefix + 'requests.raw', load.records.slice(0, 5_000));
    await waitFor('first rows', 90_000, async () => ((await count()) > 0 ? true : undefined));
    const rssBefore = rssBytes(sink.child.pid);
    const heavy = [
      httpQuery(url, 'SELECT length(groupArray(number)) FROM numbers(400000000)').catch((e: unknown) =>
        String(e),
      ),
      fetch(`${url}/?max_execution_time=8&query=${encodeURIComponent(RUNAWAY)}`).then((r) => r.text()),
    ];
    const before = await count();
    let peak = rssBefore;
    for (let i = 5_000; i < 30_000; i += 5_000) {
      await produceRecords(brokers, prefix + 'requests.raw', load.records.slice(i, i + 5_000));
      peak = Math.max(peak, rssBytes(sink.child.pid));
      await sleep(500);
    }
    const during = await waitFor('rows landing during the heavy queries', 30_000, async () =>
      (await count()) > before ? await count() : undefined,
    );
    const answers = await Promise.all(heavy);
    expect(answers[0]).toMatch(/241/); // MEMORY_LIMIT_EXCEEDED, not the sink's memory
    expect(during).toBeGreaterThan(before);
    expect(peak - rssBefore).toBeLessThan(MEMORY_CAP * 2);

    void httpQuery(url, RUNAWAY).catch(() => undefined);
    await sleep(1_500);
    const stopping = Date.now();
    sink.kill('SIGTERM');
    const exit = await sink.exited;
    expect({ code: exit.code, withinBound: Date.now() - stopping < 30_000 }).toEqual({
      code: 0,
      withinBound: true,
    });
    ingest.kill('SIGTERM');
    await ingest.exited;
  });
});
