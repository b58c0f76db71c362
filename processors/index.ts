// Every processor the CLI can run, by name (its consumer group).
import type { AnyProcessorDefinition } from '../runtime/index.ts';

export const processors: Record<string, () => Promise<AnyProcessorDefinition>> = {
  passthrough: async () => (await import('./passthrough/passthrough.ts')).passthrough,
};
