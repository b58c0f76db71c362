// Measures a processor's sustained events/s over records already in its input topic, as a real OS
// process, and samples its RSS and CPU time. Startup and group join are excluded: the clock starts at the
// first commit. CPU per event is the steadier figure on a shared machine: events/s moves with whatever
// else runs, the CPU one event costs much less.
// The same clock times the Kafka Streams peers (kafka-streams-peers.ts): it only watches a group's commits.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startProcessor } from '../infra/pipeline/processor-process.ts';
import { withGroupProgress } from '../runtime/kafka/index.ts';
import { findFreePort } from '../infra/stack/stack.ts';
import { parsePrometheusText } from '../infra/pipeline/metrics-text.ts';
import type { Sample } from '../infra/pipeline/metrics-text.ts';

export interface ThroughputResult {
  eventsPerS: number;
  records: number;
  seconds: number;
  rssSteadyMb: number;
  rssMaxMb: number;
  /** CPU time (user + system, every thread) per input event between the first commit and the last, µs. */
  cpuUsPerEvent: number;
  /** What the process served on /metrics once it had caught up (measureProcessor only). */
  metrics?: Sample[];
}

/** A process's resident memory in MB, from /proc; undefined once it has exited. */
export function rssMb(pid: number): number | undefined {
  return residentMb(pid)?.rss;
}

/** Resident memory in MB, and the part of it that is mapped files (code: node's, libchdb's), from /proc. */
export function residentMb(pid: number): { rss: number; files: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number =>
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    const rss = kb('VmRSS') / 1024;
    return Number.isNaN(rss) ? undefined : { rss, files: kb('RssFile') / 1024 };
  } catch {
    return undefined;
  }
}

let clockTicksPerS: number | undefined;

/** CPU seconds a process has used so far (user + system, all its threads), from /proc; undefined once exited. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // The fields after the command name, which is in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: indexes 11 and 12 here, where state is 0.
    const ticks = Number(fields[11]) + Number(fields[12]);
    clockTicksPerS ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) ? ticks / clockTicksPerS : undefined;
  } catch {
    return undefined;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * Times `group` from its first commit on `topic` until it has committed `records` there and caught up
 * on every topic of `alsoCaughtUp` (a peer's internal repartition topic), sampling `child`'s RSS.
 */
export async function timeCommits(options: {
  name: string;
  child: ChildProcess;
  brokers: string;
  group: string;
  topic: string;
  records: number;
  alsoCaughtUp?: readonly string[];
}): Promise<ThroughputResult> {
  const rss: number[] = [];
  let firstAt = 0;
  let firstDone = 0;
  let firstCpu = 0;
  let doneAt = 0;
  let doneCpu = 0;
  await withGroupProgress(options.brokers, options.group, async (progress) => {
    for (;;) {
      const done = (await progress(options.topic)).reduce((sum, p) => sum + Math.max(0, p.committed), 0);
      const pid = options.child.pid;
      const sample = pid === undefined ? undefined : rssMb(pid);
      if (done > 0 && sample !== undefined) rss.push(sample);
      if (done > 0 && firstAt === 0) {
        firstAt = performance.now();
        firstDone = done;
        firstCpu = (pid === undefined ? undefined : cpuSeconds(pid)) ?? 0;
      }
      if (done >= options.records && (await caughtUp(progress, options.alsoCaughtUp ?? []))) {
        doneAt = performance.now();
        doneCpu = (pid === undefined ? undefined : cpuSeconds(pid)) ?? 0;
        return;
      }
      if (options.child.exitCode !== null)
        throw new Error(`${options.name} exited with ${options.child.exitCode} during the benchmark`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  const seconds = (doneAt - firstAt) / 1000;
  const records = options.records - firstDone;
  // Steady state: the second half of the samples, after buffers and state have grown.
  return {
    eventsPerS: records / seconds,
    records,
    seconds,
    rssSteadyMb: median(rss.slice(Math.floor(rss.length / 2))),
    rssMaxMb: Math.max(0, ...rss),
    cpuUsPerEvent: ((doneCpu - firstCpu) * 1e6) / records,
  };
}

async function caughtUp(
  progress: (topic: string) => Promise<{ committed: number; end: number }[]>,
  topics: readonly string[],
): Promise<boolean> {
  for (const topic of topics) {
    // A transactional topic's end includes commit markers: caught up = within one marker per partition.
    const partitions = await progress(topic);
    if (partitions.some((p) => p.end - Math.max(0, p.committed) > 1)) return false;
  }
  return true;
}

export async function measureProcessor(options: {
  name: string;
  brokers: string;
  registryUrl: string;
  topicPrefix: string;
  inputTopic: string;
  records: number;
  workDir: string;
  env?: Record<string, string>;
}): Promise<ThroughputResult> {
  const httpPort = await findFreePort();
  const processor = startProcessor(
    options.name,
    {
      TRIBUTARY_KAFKA_BROKERS: options.brokers,
      TRIBUTARY_REGISTRY_URL: options.registryUrl,
      TRIBUTARY_TOPIC_PREFIX: options.topicPrefix,
      TRIBUTARY_INSTANCE_ID: '0',
      TRIBUTARY_STATE_DIR: join(options.workDir, 'state'),
      TRIBUTARY_LOG_LEVEL: 'warn',
      TRIBUTARY_HTTP_PORT: String(httpPort),
      ...options.env,
    },
    join(options.workDir, `${options.name}.log`),
  );
  try {
    const result = await timeCommits({
      name: options.name,
      child: processor.child,
      brokers: options.brokers,
      group: `${options.topicPrefix}${options.name}`,
      topic: `${options.topicPrefix}${options.inputTopic}`,
      records: options.records,
    });
    const metrics = parsePrometheusText(await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text());
    return { ...result, metrics };
  } finally {
    processor.kill('SIGTERM');
    await processor.exited;
  }
}
