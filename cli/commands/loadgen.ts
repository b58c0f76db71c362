// `tributary loadgen`: produce realistic raw request events (with injected faults) to requests.raw and
// save the run's ground truth.
import { z } from 'zod';
import type { Command } from '../command.ts';
import { UsageError, numberOption, parseArgs } from '../command.ts';
import { TributaryError, loadConfig, runtimeConfigShape } from '../../runtime/index.ts';
import { kafkaSecurityShape } from '../../runtime/config/index.ts';
import { useKafkaSecurity } from '../../runtime/kafka/index.ts';
import {
  buildFleet,
  defaultIncidents,
  eventSpanMs,
  generatorOptionsSchema,
  parseBadSpec,
  parseDurationS,
  parseIncidentSpec,
  runLoadgen,
  startEndingAt,
  summaryTable,
} from '../../loadgen/index.ts';
import type { GeneratorInput } from '../../loadgen/index.ts';
import { colourOn } from '../../runtime/observability/terminal.ts';

const KNOWN = new Set([
  'rate',
  'duration',
  'count',
  'time-scale',
  'event-span',
  'seed',
  'partitions',
  'topic-prefix',
  'bad',
  'duplicates',
  'late',
  'out-of-order',
  'noise',
  'iso',
  'incident',
  'no-incident',
  'start',
  'services',
  'customers',
  'regions',
  'brokers',
  'quiet',
  'worker',
  'help',
]);

const HELP = `usage: tributary loadgen [options]

Produces raw request events to <prefix>requests.raw (created with --partitions if missing), at --rate events
per second of wall clock, and saves the ground truth under .tributary/runs/<run-id>/truth.json. Event time
advances with the wall clock unless --time-scale or --event-span compress it.

  --rate N            events per wall-clock second (default 10000)
  --duration S        how long, wall clock: 90, 90s, 2m (default 60 s); or
  --count N           how many events (duplicate deliveries come on top)
  --time-scale X      event time per wall-clock time (default 1): 60 = a minute of event time a second; or
  --event-span S      the run's event time: 30m over --duration 30s is --time-scale 60
                      (late events stay 2-10 min and out-of-order ones 1-5 s behind, in event time)
  --seed N            same seed and start, same events (default 1)
  --start ISO|ms      event time of the first event (default: the run's event time ends when its
                      wall clock does, so ingest's bounds accept every event; without compression: now)
  --partitions N      partitions of requests.raw when it is created (default 6)
  --topic-prefix P    prefix of the topic name (default TRIBUTARY_TOPIC_PREFIX or none)
  --brokers H:P       Kafka bootstrap servers (default TRIBUTARY_KAFKA_BROKERS or 127.0.0.1:9092)
  --services N --customers N --regions N   fleet size (defaults 12, 2000, 5; ref load takes the same)
  --bad F             share of bad events spread over the classes (default 0.02), or per class:
                      malformed_json=0.01,oversized=0.002,...
  --duplicates F      share of valid events delivered twice (default 0.01)
  --late F            share of valid events 2-10 minutes behind the stream (default 0.005)
  --out-of-order F    share of valid events 1-5 s behind the stream (default 0.02)
  --noise F           share of valid events with harmless noise (default 0.02)
  --iso F             share of events with an ISO-8601 ts (default 0.1)
  --incident SPEC     service=S,from=20s,to=40s,kind=K[,error_rate=0.5|latency_x=5|traffic_share=0.1]
                      (';' between several; from/to in event time after the start); kinds: error_burst,
                      latency_spike, traffic_drop (the service's rate falls to traffic_share); without
                      kind, the kinds whose parameter is given, or with none an error burst and a latency
                      spike together; default: both on the second most popular service during the middle
                      third of the run's event time
  --no-incident       no incident
  --quiet             no progress lines
  --worker            generate in a worker thread: up to ~10% more events/s when a core is free,
                      ~20% more CPU in all (default: in the producing thread)
`;

const connectionSchema = z.object({
  kafkaBrokers: runtimeConfigShape.kafkaBrokers,
  topicPrefix: runtimeConfigShape.topicPrefix,
  defaultPartitions: runtimeConfigShape.defaultPartitions,
  // The same TRIBUTARY_KAFKA_SECURITY_* settings as the processors, so a load reaches a secured cluster.
  ...kafkaSecurityShape,
});

export const loadgenCommand: Command = {
  name: 'loadgen',
  usage: 'loadgen [--rate 10000] [--duration 60 | --count N] [--seed 1] [--help for every option]',
  summary: 'produce request events to requests.raw at a given rate and save the ground truth of the run',
  async run(args) {
    const { positional, options } = parseArgs(args);
    if (options.has('help')) {
      console.log(HELP);
      return 0;
    }
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"`);
    const unknown = [...options.keys()].filter((key) => !KNOWN.has(key));
    if (unknown.length > 0) throw new UsageError(`unknown option --${unknown[0]}`);

    try {
      return await produce(options);
    } catch (error) {
      // Our own errors carry a message meant for the user; anything else is a bug and keeps its stack.
      if (!(error instanceof TributaryError)) throw error;
      console.error(`loadgen: ${error.message}`);
      return 1;
    }
  },
};

async function produce(options: Map<string, string | true>): Promise<number> {
  const connection = loadConfig('loadgen', connectionSchema, { overrides: connectionOverrides(options) });
  useKafkaSecurity(connection);
  const generator = generatorOptions(options);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await runLoadgen({
      brokers: connection.kafkaBrokers,
      topicPrefix: connection.topicPrefix,
      partitions: connection.defaultPartitions,
      generator,
      progress: options.has('quiet') ? false : process.stderr,
      signal: controller.signal,
      generateIn: options.has('worker') ? 'worker' : 'this-thread',
    });
    console.error(summaryTable(result.summary, colourOn(process.stderr)));
    console.log(`run ${result.runId}`);
    console.log(`truth ${result.truthPath}`);
    return result.truth.acknowledged.deliveries > 0 || result.truth.produced.deliveries === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function connectionOverrides(options: Map<string, string | true>): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  const brokers = options.get('brokers');
  if (brokers !== undefined) overrides['kafkaBrokers'] = brokers;
  const prefix = options.get('topic-prefix');
  if (prefix !== undefined) overrides['topicPrefix'] = prefix === true ? '' : prefix;
  if (options.has('partitions')) overrides['defaultPartitions'] = numberOption(options, 'partitions', 6);
  return overrides;
}

function stringOption(options: Map<string, string | true>, name: string): string | undefined {
  const value = options.get(name);
  if (value === true) throw new UsageError(`--${name} needs a value`);
  return value;
}

function generatorOptions(
  options: Map<string, string | true>,
): ReturnType<typeof generatorOptionsSchema.parse> {
  const rate = numberOption(options, 'rate', 10_000);
  const count = countOption(options, rate);
  const timeScale = timeScaleOption(options, count / rate);
  const seed = numberOption(options, 'seed', 1);
  const startText = stringOption(options, 'start');
  const input: GeneratorInput = {
    seed,
    rate,
    timeScale,
    count,
    startMs: startText === undefined ? defaultStart({ count, rate, timeScale }) : startOption(startText),
    services: numberOption(options, 'services', 12),
    customers: numberOption(options, 'customers', 2000),
    regions: numberOption(options, 'regions', 5),
    duplicates: numberOption(options, 'duplicates', 0.01),
    late: numberOption(options, 'late', 0.005),
    outOfOrder: numberOption(options, 'out-of-order', 0.02),
    noise: numberOption(options, 'noise', 0.02),
    isoTimestamps: numberOption(options, 'iso', 0.1),
  };
  try {
    const bad = stringOption(options, 'bad');
    if (bad !== undefined) input.bad = parseBadSpec(bad);
    input.incidents = incidentsOption(options, input, eventSpanMs({ count, rate, timeScale }) / 1000);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const parsed = generatorOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new UsageError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

function countOption(options: Map<string, string | true>, rate: number): number {
  const durationText = stringOption(options, 'duration');
  if (durationText !== undefined && options.has('count'))
    throw new UsageError('give --duration or --count, not both');
  try {
    return options.has('count')
      ? numberOption(options, 'count', 0)
      : Math.round(parseDurationS(durationText ?? '60') * rate);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function timeScaleOption(options: Map<string, string | true>, durationS: number): number {
  const span = stringOption(options, 'event-span');
  if (span === undefined) return numberOption(options, 'time-scale', 1);
  if (options.has('time-scale')) throw new UsageError('give --time-scale or --event-span, not both');
  let spanS: number;
  try {
    spanS = parseDurationS(span);
  } catch (error) {
    throw new UsageError(`--event-span: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (spanS < durationS)
    throw new UsageError(
      `--event-span ${span} is shorter than the run (${durationS} s): event time cannot slow down`,
    );
  return spanS / durationS;
}

/** Ingest refuses events over 7 days old; late ones reach 10 min before the start. */
const MAX_DEFAULT_SPAN_MS = 7 * 24 * 3_600_000 - 15 * 60_000;

function defaultStart(gen: { count: number; rate: number; timeScale: number }): number {
  if (eventSpanMs(gen) > MAX_DEFAULT_SPAN_MS)
    throw new UsageError(
      'the run spans more than 7 days of event time: ingest would refuse its first events',
    );
  return startEndingAt(Date.now() + (gen.count / gen.rate) * 1000, gen);
}

function incidentsOption(
  options: Map<string, string | true>,
  input: GeneratorInput,
  eventSpanS: number,
): GeneratorInput['incidents'] {
  const incident = stringOption(options, 'incident');
  if (incident !== undefined && options.has('no-incident'))
    throw new Error('give --incident or --no-incident, not both');
  if (incident !== undefined) return parseIncidentSpec(incident);
  if (options.has('no-incident')) return [];
  const fleet = buildFleet({
    seed: input.seed ?? 1,
    services: input.services ?? 12,
    customers: 1,
    regions: input.regions ?? 5,
  });
  return defaultIncidents(fleet, eventSpanS);
}

function startOption(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new UsageError(`--start needs epoch ms or an ISO-8601 time, got "${text}"`);
  return ms;
}
