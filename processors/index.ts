// Every processor the CLI can run, by name (its consumer group).
import type { AnyProcessorDefinition } from '../runtime/index.ts';

export const processors: Record<string, () => Promise<AnyProcessorDefinition>> = {
  aggregate: async () => (await import('./aggregate/aggregate.ts')).aggregate,
  alert: async () => (await import('./alert/alert.ts')).alert,
  enrich: async () => (await import('./enrich/enrich.ts')).enrich,
  ingest: async () => (await import('./ingest/ingest.ts')).ingest,
  passthrough: async () => (await import('./passthrough/passthrough.ts')).passthrough,
};
