// Every sink the CLI can run, by name (its consumer group).
import type { AnySinkDefinition } from '../runtime/index.ts';

export const sinks: Record<string, () => Promise<AnySinkDefinition>> = {
  'clickhouse-sink': async () => (await import('./clickhouse/clickhouse-sink.ts')).clickhouseSink,
  notifier: async () => (await import('./notifier/notifier.ts')).notifier,
};
