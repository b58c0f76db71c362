// `tributary ref load | set | delete`: publish the reference data (services, customers) of a seed's
// fleet to the compacted topics the enrich processor joins with, or change or delete one record.
import { z } from 'zod';
import type { Command } from '../command.ts';
import { UsageError, numberOption, parseArgs } from '../command.ts';
import { TributaryError, loadConfig, runtimeConfigShape } from '../../runtime/index.ts';
import { securityConfigShape } from '../../runtime/config/index.ts';
import { useKafkaSecurity } from '../../runtime/kafka/index.ts';
import { registryFromConfig } from '../../runtime/serde/index.ts';
import { editReference, loadReferenceData } from '../../loadgen/index.ts';
import type { ReferenceEdit, ReferenceLoadResult } from '../../loadgen/index.ts';

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
       tributary ref set services|customers '<json record>' [connection options]
       tributary ref delete services|customers <key> [connection options]

set publishes one record, checked against schemas/service.avsc or customer.avsc (updated_at, the time
the version becomes valid for events, defaults to now), e.g.
  tributary ref set services '{"service":"checkout","team":"payments","tier":1,"latency_slo_ms":250,"availability_slo":0.999}'
delete publishes a tombstone: events from now on miss that key (enrich counts them, fields null).

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

// The same TRIBUTARY_KAFKA_* and TRIBUTARY_REGISTRY_* security settings as the processes (a secured cluster).
const connectionSchema = z.object({
  kafkaBrokers: runtimeConfigShape.kafkaBrokers,
  registryUrl: runtimeConfigShape.registryUrl,
  topicPrefix: runtimeConfigShape.topicPrefix,
  ...securityConfigShape,
});

export const refCommand: Command = {
  name: 'ref',
  usage: 'ref load [--seed 1] | set <table> <json> | delete <table> <key> [--help for every option]',
  summary: 'publish the reference data (ref.services, ref.customers), or change or delete one record',
  async run(args) {
    const { positional, options } = parseArgs(args);
    if (options.has('help')) {
      console.log(HELP);
      return 0;
    }
    const sub = positional[0];
    if (sub !== 'load' && sub !== 'set' && sub !== 'delete')
      throw new UsageError('the subcommands are "ref load", "ref set" and "ref delete"');
    if (sub === 'load' && positional.length > 1) throw new UsageError('"ref load" takes only options');
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
    const edit = sub === 'load' ? undefined : parseEdit(sub, positional.slice(1));
    let result;
    try {
      const connection = loadConfig(`ref ${sub}`, connectionSchema, { overrides });
      useKafkaSecurity(connection);
      if (edit !== undefined) {
        const written = await editReference({ ...edit, ...connectionOf(connection) });
        console.log(`${written.topic}: ${sub === 'set' ? 'set' : 'deleted'} ${written.key}`);
        return 0;
      }
      result = await load(options, connection);
    } catch (error) {
      // Our own errors carry a message meant for the user; anything else is a bug and keeps its stack.
      if (!(error instanceof TributaryError)) throw error;
      console.error(`ref ${sub}: ${error.message}`);
      return 1;
    }
    for (const d of result.drift) console.error(`note: ${d.topic} ${d.problem}`);
    for (const part of [result.services, result.customers]) {
      console.log(`${part.topic}: ${part.records} records (schema id ${part.schemaId})`);
    }
    return 0;
  },
};

function parseEdit(sub: 'set' | 'delete', args: string[]): Pick<ReferenceEdit, 'table' | 'edit'> {
  const [table, argument, ...rest] = args;
  if (table !== 'services' && table !== 'customers')
    throw new UsageError(`ref ${sub}: the table is services or customers (got "${table ?? ''}")`);
  if (argument === undefined || rest.length > 0)
    throw new UsageError(`ref ${sub} ${table} takes one ${sub === 'set' ? 'JSON record' : 'key'}`);
  if (sub === 'delete') return { table, edit: { delete: argument } };
  let record: unknown;
  try {
    record = JSON.parse(argument);
  } catch (error) {
    throw new UsageError(`ref set ${table}: the record is not JSON (${String(error)})`);
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    throw new UsageError(`ref set ${table}: the record must be a JSON object`);
  return { table, edit: { set: record as Record<string, unknown> } };
}

function connectionOf(connection: z.infer<typeof connectionSchema>): Omit<ReferenceEdit, 'table' | 'edit'> {
  return {
    brokers: connection.kafkaBrokers,
    registry: registryFromConfig(connection),
    topicPrefix: connection.topicPrefix,
  };
}

function load(
  options: Map<string, string | true>,
  connection: z.infer<typeof connectionSchema>,
): Promise<ReferenceLoadResult> {
  return loadReferenceData({
    brokers: connection.kafkaBrokers,
    registry: registryFromConfig(connection),
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
