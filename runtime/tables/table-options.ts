// What a reference table is built from: its topic, the schema values are read as, where each version's
// valid time comes from, and the bounds on its history and on updates waiting for poll().
import type { Type } from 'avsc';
import type { Logger } from '../observability/index.ts';
import type { SchemaRegistry } from '../serde/index.ts';

const DAY_MS = 86_400_000;

/**
 * Where a version's valid time comes from. A tombstone has no value, so it is always valid from its
 * record's timestamp.
 */
export type ValidFrom =
  /** The Kafka record's timestamp (producer create time, or broker log-append time). */
  | { readonly from: 'record_timestamp' }
  /** A field of the value holding epoch ms, e.g. `updated_at` (a `timestamp-millis` long). */
  | { readonly from: 'field'; readonly field: string };

export const REFERENCE_TABLE_DEFAULTS = {
  /**
   * Ingest accepts events up to 7 days older than ingest time (processors/ingest DEFAULT_PARSE_LIMITS);
   * one more day covers an enrich copy that runs that far behind, or a reprocess a day later.
   */
  historyMs: 8 * DAY_MS,
  /** Updates decoded and waiting for poll(); fetching pauses beyond it. */
  maxStagedRecords: 50_000,
  /** How often poll() sweeps the whole table for versions that fell out of history, in ms. */
  pruneIntervalMs: 60_000,
} as const;

export interface ReferenceTableOptions {
  /** The table's name in metrics, logs and /readyz, e.g. `customers`. */
  name: string;
  topic: string;
  brokers: string;
  /** The group id its reader carries (never joined); the processor's own, so its ACLs cover it. */
  groupId?: string;
  registry: SchemaRegistry;
  /** The schema values are read as (older writers resolve to it). */
  readerType: Type;
  validFrom: ValidFrom;
  /** Default REFERENCE_TABLE_DEFAULTS.historyMs (8 days). */
  historyMs?: number;
  /** Default REFERENCE_TABLE_DEFAULTS.maxStagedRecords. */
  maxStagedRecords?: number;
  /** Default REFERENCE_TABLE_DEFAULTS.pruneIntervalMs. */
  pruneIntervalMs?: number;
  logger: Logger;
  /** Clock in epoch ms (history bound, age of the last update). Default Date.now. */
  now?: () => number;
}

/** The valid time of a decoded value, or undefined when the declared field does not hold epoch ms. */
export function validTimeOf(
  validFrom: ValidFrom,
  value: unknown,
  recordTimestamp: number,
): number | undefined {
  if (validFrom.from === 'record_timestamp') return recordTimestamp;
  const time = (value as Record<string, unknown>)[validFrom.field];
  return typeof time === 'number' && Number.isFinite(time) ? time : undefined;
}
