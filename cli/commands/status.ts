// `tributary status`: topics, consumer groups (the processors' and the sink's progress) and their lag,
// read from the broker's admin API. Partitions are listed for groups that are behind, or all with --verbose.
import { textTable } from '../../runtime/observability/terminal.ts';
import { stackDefaults } from '../../infra/stack/defaults.ts';
import { brokerReachable, groupOverview, topicOverview } from '../../infra/pipeline/kafka-overview.ts';
import type { GroupOverview, TopicOverview } from '../../infra/pipeline/kafka-overview.ts';
import { z } from 'zod';
import { useKafkaSecurity, withAdmin } from '../../runtime/kafka/index.ts';
import { kafkaSecurityShape, loadConfig } from '../../runtime/config/index.ts';
import type { Command } from '../command.ts';
import { UsageError, parseArgs } from '../command.ts';

// No line between rows (colour only on a colour terminal: textTable).
const compact = { chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } };
/** Topics starting with `_` belong to Kafka and the schema registry, as do groups reading only those. */
const internal = (topic: string): boolean => topic.startsWith('_');
const num = (n: number): string => n.toLocaleString('en-US');

function stringOption(options: Map<string, string | true>, names: string[], fallback: string): string {
  for (const name of names) {
    const value = options.get(name);
    if (value === true) throw new UsageError(`--${name} needs a value`);
    if (value !== undefined) return value;
  }
  return fallback;
}

function topicsTable(topics: TopicOverview[]): string {
  const table = textTable({ head: ['topic', 'partitions', 'end offsets (total)'], ...compact });
  for (const t of topics) table.push([t.name, t.partitions, num(t.endOffsets)]);
  return table.toString();
}

function groupsTable(groups: GroupOverview[]): string {
  const table = textTable({ head: ['consumer group', 'state', 'members', 'topics', 'lag'], ...compact });
  for (const g of groups) {
    const topics = [...new Set(g.partitions.map((p) => p.topic))].join(', ');
    table.push([g.group, g.state, g.members, topics === '' ? '-' : topics, num(g.lag)]);
  }
  return table.toString();
}

function partitionsTable(group: GroupOverview): string {
  const table = textTable({ head: ['topic', 'partition', 'committed', 'end', 'lag'], ...compact });
  for (const p of group.partitions)
    table.push([p.topic, p.partition, p.committed < 0 ? 'none' : num(p.committed), num(p.end), num(p.lag)]);
  return table.toString();
}

export const statusCommand: Command = {
  name: 'status',
  usage: 'status [--prefix P] [--brokers host:port] [--verbose] [--all]',
  summary: 'show topics, consumer groups with members and lag (per partition where behind)',
  async run(args) {
    const { positional, options } = parseArgs(args);
    if (positional.length > 0) throw new UsageError(`unexpected argument "${positional.join(' ')}"`);
    const prefix = stringOption(options, ['prefix', 'topic-prefix'], '');
    const brokers = stringOption(options, ['brokers'], `127.0.0.1:${stackDefaults().kafkaPort}`);
    const verbose = options.has('verbose');
    const all = options.has('all');
    // A secured cluster: the same TRIBUTARY_KAFKA_SECURITY_PROTOCOL, SASL and TLS settings as the processes.
    useKafkaSecurity(loadConfig('status', z.object(kafkaSecurityShape)));

    if (!(await brokerReachable(brokers))) {
      console.error(
        `no Kafka broker answers at ${brokers}. Start the local stack with "./tributary stack up", ` +
          'or point at another cluster with --brokers host:port.',
      );
      return 1;
    }
    const found = await withAdmin(brokers, async (admin) => ({
      topics: await topicOverview(admin, prefix),
      groups: await groupOverview(admin, brokers, prefix),
    }));
    const topics = all ? found.topics : found.topics.filter((t) => !internal(t.name));
    const groups = all
      ? found.groups
      : found.groups.filter((g) => g.partitions.length === 0 || g.partitions.some((p) => !internal(p.topic)));

    const scope = prefix === '' ? '' : ` with prefix "${prefix}"`;
    console.log(`Kafka ${brokers}: ${topics.length} topic(s), ${groups.length} consumer group(s)${scope}\n`);
    if (topics.length > 0) console.log(`${topicsTable(topics)}\n`);
    if (groups.length > 0) console.log(`${groupsTable(groups)}\n`);
    for (const group of groups) {
      if (group.partitions.length === 0 || (!verbose && group.lag === 0)) continue;
      console.log(`${group.group}: ${num(group.lag)} behind\n${partitionsTable(group)}\n`);
    }
    if (!verbose && groups.some((g) => g.lag === 0 && g.partitions.length > 0))
      console.log('groups that are caught up are not broken down by partition; --verbose shows them all');
    if (!all && found.topics.length > topics.length)
      console.log(
        `${found.topics.length - topics.length} internal topic(s) and their groups not shown; --all shows them`,
      );
    return 0;
  },
};
