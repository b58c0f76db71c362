// How a processor declares its state stores, and what each kind needs of its changelog topic.
import type { SchemaName, SchemaRecords } from '../contracts/records.ts';
import type { KeyedStore } from './keyed-store.ts';
import type { RecentIds } from './recent-ids.ts';
import type { WindowedStore } from './windowed-store.ts';
import { BUCKETS_PER_HORIZON } from './recent-ids.ts';

type Config = Record<string, unknown>;

/** A keyed store: `V` is what the handler keeps per key. */
export interface KeyedStoreDeclaration<V> {
  readonly kind: 'keyed';
  /** The record in schemas/ a value is (the changelog writes it as Avro, see store-codecs.ts). */
  readonly schema: string;
  /**
   * Entries removed by expireBefore/trimToSize are not written as tombstones; instead the changelog
   * is `compact,delete` with CHANGELOG_RETENTION_MS, so it stays bounded at one write per set().
   */
  readonly localExpiry: boolean;
  /** Most entries kept per partition, also while restoring (oldest dropped first); from the config. */
  readonly maxEntries?: (config: Config) => number;
  readonly _value?: V;
}

/** The ids seen within a horizon (dedup): expiry and the cap are the store's, not the handler's. */
export interface RecentIdsDeclaration {
  readonly kind: 'recentIds';
  readonly horizonMs: (config: Config) => number;
  readonly maxIdsPerPartition: (config: Config) => number;
}

/** Values per (group key, window start), closed in window-end order (`closeUntil`), compacted changelog. */
export interface WindowedStoreDeclaration<V> {
  readonly kind: 'windowed';
  /** The record in schemas/ a value is (the changelog writes it as Avro, see store-codecs.ts). */
  readonly schema: string;
  readonly _value?: V;
}

export type StoreDeclaration<V = unknown> =
  KeyedStoreDeclaration<V> | RecentIdsDeclaration | WindowedStoreDeclaration<V>;

/** What `ctx.store(name)` gives the handler for a declaration. */
export type StoreOf<D> = D extends RecentIdsDeclaration
  ? RecentIds
  : D extends WindowedStoreDeclaration<infer W>
    ? WindowedStore<W>
    : D extends KeyedStoreDeclaration<infer V>
      ? KeyedStore<V>
      : never;

/** How long a local-expiry store's changelog keeps a record; its entries must expire sooner. */
export const CHANGELOG_RETENTION_MS = 24 * 60 * 60 * 1000;

/** A keyed store of `schema` records (from schemas/, so the value type follows the schema). */
export function keyedStore<N extends SchemaName>(
  schema: N,
  options: { localExpiry?: boolean; maxEntries?: (config: Config) => number } = {},
): KeyedStoreDeclaration<SchemaRecords[N]> {
  const declaration = { kind: 'keyed' as const, schema, localExpiry: options.localExpiry ?? false };
  return options.maxEntries === undefined ? declaration : { ...declaration, maxEntries: options.maxEntries };
}

/** Windows of `schema` records, open until the watermark closes them; the changelog is compacted. */
export function windowedStore<N extends SchemaName>(schema: N): WindowedStoreDeclaration<SchemaRecords[N]> {
  return { kind: 'windowed', schema };
}

export function recentIds(options: {
  horizonMs: (config: Config) => number;
  maxIdsPerPartition: (config: Config) => number;
}): RecentIdsDeclaration {
  return { kind: 'recentIds', ...options };
}

/** Topic-level settings of a store's changelog (besides name and partitions). */
export interface ChangelogTopicConfig {
  cleanupPolicy: 'compact' | 'compact,delete';
  retentionMs?: number;
  segmentMs?: number;
  /** Further topic configs by their Kafka names. */
  extra?: Record<string, string>;
}

/**
 * A recent-ids changelog is bounded by compaction of its expiry tombstones, so compaction must keep up:
 * segments roll every few buckets (only closed segments are cleaned), a segment is cleaned at most one
 * horizon after it closed, and tombstones linger one horizon. The log then holds about the live state
 * plus at most ~1.5 horizons of writes not yet compacted, whatever its age.
 */
export function changelogTopicConfig(declaration: StoreDeclaration, config: Config): ChangelogTopicConfig {
  if (declaration.kind === 'recentIds') {
    const horizonMs = declaration.horizonMs(config);
    const segmentMs = Math.max(10_000, Math.ceil((horizonMs / BUCKETS_PER_HORIZON) * 4));
    return {
      cleanupPolicy: 'compact',
      segmentMs,
      extra: {
        'min.cleanable.dirty.ratio': '0.3',
        'max.compaction.lag.ms': String(Math.max(horizonMs, segmentMs)),
        'delete.retention.ms': String(horizonMs),
      },
    };
  }
  if (declaration.kind === 'windowed' || !declaration.localExpiry) return { cleanupPolicy: 'compact' };
  return {
    cleanupPolicy: 'compact,delete',
    retentionMs: CHANGELOG_RETENTION_MS,
    segmentMs: CHANGELOG_RETENTION_MS / 4,
  };
}
