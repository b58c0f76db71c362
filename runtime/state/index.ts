export { StateManager } from './state-manager.ts';
export type { AnyPartitionStore, ChangelogReader } from './state-manager.ts';
export {
  CHANGELOG_RETENTION_MS,
  changelogTopicConfig,
  keyedStore,
  recentIds,
  windowedStore,
} from './declarations.ts';
export type {
  ChangelogTopicConfig,
  KeyedStoreDeclaration,
  RecentIdsDeclaration,
  StoreDeclaration,
  StoreOf,
  WindowedStoreDeclaration,
} from './declarations.ts';
export { PartitionWindowedStore } from './windowed-store.ts';
export type { WindowEntry, WindowedStore } from './windowed-store.ts';
export { PartitionStore } from './keyed-store.ts';
export type { KeyedStore, StoredEntry } from './keyed-store.ts';
export { PartitionRecentIds } from './recent-ids.ts';
export type { RecentIds } from './recent-ids.ts';
export { buildStoreCodecs, storeBindings, storeEntrySchema } from './store-codecs.ts';
export type { KeyedEntry, StoreCodec, StoreCodecs, WindowedEntry } from './store-codecs.ts';
export type { StateManagerOptions } from './state-manager.ts';
