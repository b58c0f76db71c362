// A reference table: a compacted topic read in full (every partition, read_committed, outside any group)
// up to the end offsets captured at start, then followed live. Updates that arrive after the load wait,
// decoded, until the processor loop calls poll() between batches, so the table never changes under a
// batch. Lookups are synchronous and answer at a time: see VersionedTable.
import { TributaryError, isRetryable, isTributaryError } from '../errors.ts';
import { TopicFollower } from '../kafka/topic-follower.ts';
import type { PartitionOffsets } from '../kafka/topic-follower.ts';
import type { Message } from '../kafka/index.ts';
import type { Logger } from '../observability/index.ts';
import { AvroDecoder } from '../serde/index.ts';
import { SizeSampler } from './size-estimate.ts';
import { StringSharing } from './string-sharing.ts';
import { REFERENCE_TABLE_DEFAULTS, validTimeOf } from './table-options.ts';
import type { ReferenceTableOptions, ValidFrom } from './table-options.ts';
import { VersionedTable } from './versioned-table.ts';
import type { TableMiss } from './versioned-table.ts';

export type TableState = 'created' | 'loading' | 'following' | 'failed' | 'closed';

export interface TableProgress {
  table: string;
  topic: string;
  state: TableState;
  /** Records applied to the table so far. */
  records: number;
  partitions: PartitionOffsets[];
}

export interface TableStats {
  /** Keys whose newest version is a value. */
  entries: number;
  versions: number;
  /** Estimated heap bytes. */
  bytes: number;
  /** Records in the topic not yet applied (not fetched, or waiting for poll). */
  lag: number;
  /** Record timestamp of the newest update applied, epoch ms. */
  lastUpdateAt: number | undefined;
  applied: number;
  rejected: number;
}

interface StagedVersion<V> {
  key: string;
  validFrom: number;
  value: V | null;
  timestamp: number;
}

const REGISTRY_RETRY_MAX_MS = 30_000;

export class ReferenceTable<V> {
  readonly name: string;
  readonly topic: string;
  private readonly versions: VersionedTable<V>;
  private readonly follower: TopicFollower;
  private readonly decoder: AvroDecoder<V>;
  private readonly validFrom: ValidFrom;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly maxStaged: number;
  private readonly pruneIntervalMs: number;
  private readonly sizes = new SizeSampler();
  private readonly strings = new StringSharing();
  private staged: StagedVersion<V>[] = [];
  private wakeFetcher: (() => void) | undefined;
  private state: TableState = 'created';
  private failure: TributaryError | undefined;
  private applied = 0;
  private rejected = 0;
  private lastUpdateAt: number | undefined;
  private lastPruneAt = 0;

  constructor(options: ReferenceTableOptions) {
    this.name = options.name;
    this.topic = options.topic;
    this.now = options.now ?? Date.now;
    this.validFrom = options.validFrom;
    this.maxStaged = options.maxStagedRecords ?? REFERENCE_TABLE_DEFAULTS.maxStagedRecords;
    this.pruneIntervalMs = options.pruneIntervalMs ?? REFERENCE_TABLE_DEFAULTS.pruneIntervalMs;
    this.log = options.logger.child({ table: options.name, topic: options.topic });
    this.versions = new VersionedTable<V>({
      historyMs: options.historyMs ?? REFERENCE_TABLE_DEFAULTS.historyMs,
      now: this.now,
    });
    this.decoder = new AvroDecoder<V>(options.registry, options.readerType);
    this.follower = new TopicFollower(
      { brokers: options.brokers, topic: options.topic, clientId: `tributary-table-${options.name}` },
      (messages) => this.handleBatch(messages),
      (error) => this.fail(error),
    );
  }

  /** Reads the topic up to the end offsets captured now; rejects if the table stops first. */
  async load(): Promise<void> {
    const started = this.now();
    this.state = 'loading';
    try {
      await this.follower.start();
    } catch (error) {
      const failure = isTributaryError(error) ? error : this.loadFailed('could not start following', error);
      this.fail(failure);
      await this.follower.close().catch(() => undefined);
      throw failure;
    }
    if (!(await this.follower.whenCaughtUp())) {
      throw this.failure ?? this.loadFailed('was closed before it was loaded', undefined);
    }
    this.state = 'following';
    this.versions.prune();
    this.lastPruneAt = this.now();
    this.log.info(
      { records: this.applied, keys: this.versions.keys, rejected: this.rejected, ms: this.now() - started },
      'reference table loaded',
    );
  }

  /** Applies the updates that arrived since the last call (never blocks); returns how many. */
  poll(): number {
    if (this.failure !== undefined) throw this.failure;
    const staged = this.staged;
    this.staged = [];
    for (const version of staged) this.apply(version);
    this.wakeFetcher?.();
    if (this.now() - this.lastPruneAt >= this.pruneIntervalMs) {
      this.versions.prune();
      this.lastPruneAt = this.now();
    }
    return staged.length;
  }

  /** The value valid at `atTime` (epoch ms), or undefined: `explainMiss` says why. */
  get(key: string, atTime: number): V | undefined {
    return this.versions.get(key, atTime);
  }

  explainMiss(key: string, atTime: number): TableMiss | undefined {
    return this.versions.explainMiss(key, atTime);
  }

  get isLoaded(): boolean {
    return this.state === 'following';
  }

  progress(): TableProgress {
    const partitions = this.follower.progress();
    return { table: this.name, topic: this.topic, state: this.state, records: this.applied, partitions };
  }

  stats(): TableStats {
    const { keys, versions, liveKeys } = this.versions;
    return {
      entries: liveKeys,
      versions,
      bytes: this.sizes.estimate(keys, versions),
      lag: this.follower.lag() + this.staged.length,
      lastUpdateAt: this.lastUpdateAt,
      applied: this.applied,
      rejected: this.rejected,
    };
  }

  async close(): Promise<void> {
    if (this.state !== 'failed') this.state = 'closed';
    this.wakeFetcher?.();
    await this.follower.close();
  }

  private async handleBatch(messages: readonly Message[]): Promise<void> {
    await this.prepare(messages);
    const versions: StagedVersion<V>[] = [];
    for (const message of messages) {
      const version = this.toVersion(message);
      if (version !== undefined) versions.push(version);
    }
    // Nothing looks the table up before load() returns, so the load applies at once.
    if (this.state === 'loading') {
      for (const version of versions) this.apply(version);
      return;
    }
    for (const version of versions) this.staged.push(version);
    while (this.staged.length >= this.maxStaged && this.state === 'following') {
      await new Promise<void>((resolve) => (this.wakeFetcher = resolve));
    }
  }

  /** Fetches the batch's writer schemas; waits out a registry outage rather than skipping records. */
  private async prepare(messages: readonly Message[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.decoder.prepare(messages.map((m) => m.value));
        return;
      } catch (error) {
        if (!isRetryable(error) || this.state === 'closed') throw error;
        const waitMs = Math.min(REGISTRY_RETRY_MAX_MS, 500 * 2 ** attempt);
        this.log.warn(
          { err: error, waitMs },
          'registry unavailable while decoding a reference table; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  private toVersion(message: Message): StagedVersion<V> | undefined {
    const timestamp =
      message.timestamp !== undefined && message.timestamp >= 0 ? message.timestamp : this.now();
    if (message.key === undefined || message.key === null)
      return this.reject(message, 'the record has no key');
    const key = message.key.toString();
    if (message.value === null) return { key, validFrom: timestamp, value: null, timestamp };
    let value: V;
    try {
      value = this.decoder.decode(message.value);
    } catch (error) {
      if (!isTributaryError(error)) throw error;
      return this.reject(message, error.message, error.code);
    }
    const validFrom = validTimeOf(this.validFrom, value, timestamp);
    if (validFrom === undefined) return this.reject(message, 'the valid-from field does not hold epoch ms');
    this.sizes.offer(key, value, this.strings.share(key, value));
    return { key, validFrom, value, timestamp };
  }

  private apply(version: StagedVersion<V>): void {
    if (version.value === null) this.versions.delete(version.key, version.validFrom);
    else this.versions.put(version.key, version.validFrom, version.value);
    this.applied++;
    if (this.lastUpdateAt === undefined || version.timestamp > this.lastUpdateAt) {
      this.lastUpdateAt = version.timestamp;
    }
  }

  /** A record the table cannot hold: counted and logged with where it is; the key keeps its versions. */
  private reject(message: Message, problem: string, code?: string): undefined {
    this.rejected++;
    this.log.warn(
      { partition: message.partition, offset: message.offset, code, problem },
      'reference record rejected',
    );
    return undefined;
  }

  private fail(error: TributaryError): void {
    if (this.state === 'closed') return;
    this.state = 'failed';
    this.failure = error;
    this.log.error({ err: error }, 'reference table stopped following its topic');
  }

  private loadFailed(what: string, cause: unknown): TributaryError {
    return new TributaryError('TRIBUTARY_TABLE_LOAD_FAILED', `reference table ${this.name} ${what}`, {
      cause,
      context: { table: this.name, topic: this.topic },
    });
  }
}
