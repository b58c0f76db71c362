// `tributary ref load`: publish the reference data (services, customers) of a seed's fleet to the
// compacted topics the enrich processor joins with.
import { z } from 'zod';
import type { Command } from '../command.ts';
import { UsageError, numberOption, parseArgs } from '../command.ts';
import { TributaryError, loadConfig, runtimeConfigShape } from '../../runtime/index.ts';
import { HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import { loadReferenceData } from '../../loadgen/index.ts';
import type { ReferenceLoadResult } from '../../loadgen/index.ts';

const KNOWN = new Set([
  'seed',
  'services',
  'customers',
  'regions',
  'partitions',
  'topic-prefix',
  'brokers',
  'registry-url',
  'help',
]);

const HELP = `usage: tributary ref load [options]

Publishes the reference data of the fleet a seed describes (the one \`tributary loadgen\` with the same seed,
services, customers and regions sends events for) to the compacted topics <prefix>ref.services (key service)
and <prefix>ref.customers (key customer_id), as Avro registered under <topic>-value.

  --seed N                                 (default 1)
  --services N --customers N --regions N   fleet size (defaults 12, 2000, 5)
  --partitions N                           partitions of the topics when they are created (default 1)
  --topic-prefix P                         (default TRIBUTARY_TOPIC_PREFIX or none)
  --brokers H:P                            (default TRIBUTARY_KAFKA_BROKERS or 127.0.0.1:9092)
  --registry-url URL                       (default TRIBUTARY_REGISTRY_URL or http://127.0.0.1:8081/apis/ccompat/v7)
`;

const connectionSchema = z.object({
  kafkaBrokers: runtimeConfigShape.kafkaBrokers,
  registryUrl: runtimeConfigShape.registryUrl,
  topicPrefix: runtimeConfigShape.topicPrefix,
});

export const refCommand: Command = {
  name: 'ref',
  usage: 'ref load [--seed 1] [--brokers host:port] [--registry-url URL] [--help for every option]',
  summary: 'publish the reference data (ref.services, ref.customers) of the fleet a seed describes',
  async run(args) {
    const { positional, options } = parseArgs(args);
    if (options.has('help')) {
      console.log(HELP);
      return 0;
    }
    if (positional[0] !== 'load' || positional.length > 1)
      throw new UsageError('the only subcommand is "ref load"');
    const unknown = [...options.keys()].filter((key) => !KNOWN.has(key));
    if (unknown.length > 0) throw new UsageError(`unknown option --${unknown[0]}`);

    const overrides: Record<string, unknown> = {};
    for (const [flag, key] of [
      ['brokers', 'kafkaBrokers'],
      ['registry-url', 'registryUrl'],
      ['topic-prefix', 'topicPrefix'],
    ] as const) {
      const value = options.get(flag);
      if (value === true) throw new UsageError(`--${flag} needs a value`);
      if (value !== undefined) overrides[key] = value;
    }
    let result;
    try {
      result = await load(options, loadConfig('ref load', connectionSchema, { overrides }));
    } catch (error) {
      // Our own errors carry a message meant for the user; anything else is a bug and keeps its stack.
      if (!(error instanceof TributaryError)) throw error;
      console.error(`ref load: ${error.message}`);
      return 1;
    }
    for (const d of result.drift) console.error(`note: ${d.topic} ${d.problem}`);
    for (const part of [result.services, result.customers]) {
      console.log(`${part.topic}: ${part.records} records (schema id ${part.schemaId})`);
    }
    return 0;
  },
};

function load(
  options: Map<string, string | true>,
  connection: z.infer<typeof connectionSchema>,
): Promise<ReferenceLoadResult> {
  return loadReferenceData({
    brokers: connection.kafkaBrokers,
    registry: new HttpSchemaRegistry(connection.registryUrl),
    topicPrefix: connection.topicPrefix,
    partitions: numberOption(options, 'partitions', 1),
    fleet: {
      seed: numberOption(options, 'seed', 1),
      services: numberOption(options, 'services', 12),
      customers: numberOption(options, 'customers', 2000),
      regions: numberOption(options, 'regions', 5),
    },
  });
}
