// The state of a test driver: a StateManager whose changelog reader replays the records the driver
// captured from committed batches, so a restart restores through the same code as a Kafka restore.
import type { AnyProcessorDefinition } from '../app/index.ts';
import type { Logger } from '../observability/index.ts';
import { StateManager } from '../state/index.ts';
import type { ChangelogReader, StoreCodecs, StoreDeclaration } from '../state/index.ts';
import type { ChangelogRecord } from './captured-outputs.ts';
import { declaredStores } from '../time/index.ts';

export function createReplayingState(
  definition: AnyProcessorDefinition,
  options: {
    changelogs: ReadonlyMap<string, readonly ChangelogRecord[]>;
    changelogTopicFor: (store: string) => string;
    codecs: StoreCodecs;
    log: Logger;
    config: Record<string, unknown>;
  },
): StateManager | undefined {
  const { changelogs, changelogTopicFor, codecs, log, config } = options;
  const declarations: Record<string, StoreDeclaration> = declaredStores(definition);
  if (Object.keys(declarations).length === 0) return undefined;
  const replay: ChangelogReader = (topic, partitions, onRecord) => {
    const wanted = new Set(partitions);
    for (const record of changelogs.get(topic) ?? [])
      if (wanted.has(record.partition)) onRecord(record.partition, record.key, record.value);
    return Promise.resolve();
  };
  // Frozen values: a handler that changes a stored object in place fails its harness tests at once.
  return new StateManager({
    declarations,
    changelogTopicFor,
    readChangelog: replay,
    log,
    codecs,
    config,
    freezeValues: true,
  });
}
