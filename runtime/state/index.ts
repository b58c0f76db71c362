export { CHANGELOG_RETENTION_MS, StateManager, keyedStore } from './state-manager.ts';
export type { StoreDeclaration, ChangelogReader } from './state-manager.ts';
export { PartitionStore } from './keyed-store.ts';
export type { KeyedStore, StoredEntry } from './keyed-store.ts';
