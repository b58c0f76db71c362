// End to end: load generator → ingest (2 copies) → ClickHouse sink, as real processes on the bench's stack.
// Phase 1 pushes as fast as the generator goes and measures what the whole pipeline sustains (events over
// the time until the sink has caught up) and every process's RSS; phase 2 runs at half that rate and
// reads produce-to-queryable latency from ClickHouse (ingested_at is the raw record's produce time,
// _inserted_at the moment its row landed).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectRows } from '../connectors/clickhouse/index.ts';
import type { ResultsSettings } from '../connectors/clickhouse/index.ts';
import { processEnv, startProcessor } from '../infra/pipeline/processor-process.ts';
import type { ProcessorProcess } from '../infra/pipeline/processor-process.ts';
import { findFreePort } from '../infra/stack/stack.ts';
import { generatorOptionsSchema, runLoadgen } from '../loadgen/index.ts';
import { waitForGroupCaughtUp } from '../runtime/kafka/index.ts';

const PARTITIONS = 6;

function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) / 1024;
  } catch {
    return 0;
  }
}

async function runPhase(options: {
  brokers: string;
  prefix: string;
  rate: number;
  count: number;
  workDir: string;
}): Promise<{ seconds: number; events: number }> {
  const started = Date.now();
  const generator = generatorOptionsSchema.parse({
    seed: 9,
    count: options.count,
    rate: options.rate,
    startMs: Date.now(),
  });
  const result = await runLoadgen({
    brokers: options.brokers,
    topicPrefix: options.prefix,
    partitions: PARTITIONS,
    generator,
    runsDir: join(options.workDir, 'runs'),
    progress: false,
  });
  await waitForGroupCaughtUp(options.brokers, `${options.prefix}ingest`, `${options.prefix}requests.raw`);
  for (const topic of ['requests.valid', 'requests.dlq'])
    await waitForGroupCaughtUp(
      options.brokers,
      `${options.prefix}clickhouse-sink`,
      `${options.prefix}${topic}`,
    );
  return { seconds: (Date.now() - started) / 1000, events: result.truth.acknowledged.deliveries };
}

export async function benchEndToEnd(options: {
  brokers: string;
  registryUrl: string;
  workDir: string;
}): Promise<Record<string, number>> {
  const queryPort = await findFreePort();
  const clickhouse: ResultsSettings = {
    clickhouseDataDir: join(options.workDir, 'e2e-clickhouse'),
    clickhouseUser: 'default',
    clickhousePassword: '',
    clickhouseDatabase: 'default',
    queryPort,
  };
  const figures: Record<string, number> = {};
  for (const [phase, prefix] of [
    ['max', 'bench-e2e-max.'],
    ['half', 'bench-e2e-half.'],
  ] as const) {
    const base = {
      brokers: options.brokers,
      registryUrl: options.registryUrl,
      prefix,
      stateDir: join(options.workDir, 'e2e-state'),
    };
    const processes: Array<[string, ProcessorProcess]> = [
      [
        'ingest_0',
        startProcessor(
          'ingest',
          processEnv(base, { TRIBUTARY_INSTANCE_ID: '0', TRIBUTARY_LOG_LEVEL: 'warn' }),
          join(options.workDir, `e2e-${phase}-ingest-0.log`),
        ),
      ],
      [
        'ingest_1',
        startProcessor(
          'ingest',
          processEnv(base, { TRIBUTARY_INSTANCE_ID: '1', TRIBUTARY_LOG_LEVEL: 'warn' }),
          join(options.workDir, `e2e-${phase}-ingest-1.log`),
        ),
      ],
      [
        'sink',
        startProcessor(
          'sink',
          processEnv(base, {
            TRIBUTARY_INSTANCE_ID: '0',
            TRIBUTARY_LOG_LEVEL: 'warn',
            TRIBUTARY_CLICKHOUSE_DATA_DIR: clickhouse.clickhouseDataDir,
            TRIBUTARY_QUERY_PORT: String(queryPort),
          }),
          join(options.workDir, `e2e-${phase}-sink.log`),
        ),
      ],
    ];
    const rss = new Map<string, number>();
    const sampler = setInterval(() => {
      for (const [name, p] of processes) rss.set(name, Math.max(rss.get(name) ?? 0, rssMb(p.child.pid)));
    }, 250);
    try {
      if (phase === 'max') {
        const { seconds, events } = await runPhase({
          brokers: options.brokers,
          prefix,
          rate: 1_000_000,
          count: 300_000,
          workDir: options.workDir,
        });
        figures['e2e_events_per_s'] = events / seconds;
        for (const [name, mb] of rss) figures[`e2e_rss_${name}_mb`] = mb;
      } else {
        const rate = Math.max(1000, Math.round((figures['e2e_events_per_s'] ?? 2000) / 2));
        await runPhase({
          brokers: options.brokers,
          prefix,
          rate,
          count: rate * 20,
          workDir: options.workDir,
        });
        const rows = await selectRows(
          `SELECT quantiles(0.5, 0.99)(dateDiff('millisecond', ingested_at, _inserted_at)) FROM requests WHERE _topic = '${prefix}requests.valid'`,
          clickhouse,
        );
        const [p50 = 0, p99 = 0] = (rows.data[0]?.[0] as number[] | undefined) ?? [];
        figures['e2e_latency_rate_events_per_s'] = rate;
        figures['e2e_latency_p50_ms'] = p50;
        figures['e2e_latency_p99_ms'] = p99;
      }
    } finally {
      clearInterval(sampler);
      for (const [, p] of processes) p.kill('SIGTERM');
      await Promise.all(processes.map(([, p]) => p.exited));
    }
  }
  return figures;
}
