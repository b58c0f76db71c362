// A reference table: a compacted topic read in full (every partition, read_committed, outside any group)
// up to the end offsets captured at start, then followed live. Updates that arrive after the load wait,
// decoded, until the processor loop calls poll() between batches, so the table never changes under a
// batch. Lookups are synchronous and answer at a time: see VersionedTable.
import { TributaryError, isTributaryError } from '../errors.ts';
import { TopicFollower } from '../kafka/topic-follower.ts';
import type { PartitionOffsets } from '../kafka/topic-follower.ts';
import type { Message } from '../kafka/index.ts';
import type { Logger } from '../observability/index.ts';
import { REFERENCE_TABLE_DEFAULTS } from './table-options.ts';
import type { ReferenceTableOptions } from './table-options.ts';
import { TableRecords } from './table-records.ts';
import type { TableVersion } from './table-records.ts';
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

export class ReferenceTable<V> {
  readonly name: string;
  readonly topic: string;
  private readonly versions: VersionedTable<V>;
  private readonly follower: TopicFollower;
  private readonly records: TableRecords<V>;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly maxStaged: number;
  private readonly pruneIntervalMs: number;
  private staged: TableVersion<V>[] = [];
  private wakeFetcher: (() => void) | undefined;
  private state: TableState = 'created';
  private failure: TributaryError | undefined;
  private applied = 0;
  private lastUpdateAt: number | undefined;
  private lastPruneAt = 0;

  constructor(options: ReferenceTableOptions) {
    this.name = options.name;
    this.topic = options.topic;
    this.now = options.now ?? Date.now;
    this.maxStaged = options.maxStagedRecords ?? REFERENCE_TABLE_DEFAULTS.maxStagedRecords;
    this.pruneIntervalMs = options.pruneIntervalMs ?? REFERENCE_TABLE_DEFAULTS.pruneIntervalMs;
    this.log = options.logger.child({ table: options.name, topic: options.topic });
    this.versions = new VersionedTable<V>({
      historyMs: options.historyMs ?? REFERENCE_TABLE_DEFAULTS.historyMs,
      now: this.now,
    });
    this.records = new TableRecords<V>(
      options.registry,
      options.readerType,
      options.validFrom,
      this.log,
      this.now,
    );
    this.follower = new TopicFollower(
      {
        brokers: options.brokers,
        topic: options.topic,
        clientId: `tributary-table-${options.name}`,
        ...(options.groupId === undefined ? {} : { groupId: options.groupId }),
      },
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
      {
        records: this.applied,
        keys: this.versions.keys,
        rejected: this.records.rejected,
        ms: this.now() - started,
      },
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
      bytes: this.records.sizes.estimate(keys, versions),
      lag: this.follower.lag() + this.staged.length,
      lastUpdateAt: this.lastUpdateAt,
      applied: this.applied,
      rejected: this.records.rejected,
    };
  }

  async close(): Promise<void> {
    if (this.state !== 'failed') this.state = 'closed';
    this.wakeFetcher?.();
    await this.follower.close();
  }

  private async handleBatch(messages: readonly Message[]): Promise<void> {
    await this.records.prepare(messages, () => this.state !== 'closed');
    const versions: TableVersion<V>[] = [];
    for (const message of messages) {
      const version = this.records.toVersion(message);
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

  private apply(version: TableVersion<V>): void {
    if (version.value === null) this.versions.delete(version.key, version.validFrom);
    else this.versions.put(version.key, version.validFrom, version.value);
    this.applied++;
    if (this.lastUpdateAt === undefined || version.timestamp > this.lastUpdateAt) {
      this.lastUpdateAt = version.timestamp;
    }
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

/** One line for /readyz: `customers: loading 412,000 of 1,000,000 offsets (41%)`, or `customers: loaded`. */
export function describeTableProgress(progress: TableProgress): string {
  if (progress.state === 'following') return `${progress.table}: loaded`;
  if (progress.state !== 'loading') return `${progress.table}: ${progress.state}`;
  let read = 0;
  let total = 0;
  for (const p of progress.partitions) {
    read += Math.min(p.position, p.end);
    total += p.end;
  }
  const percent = total === 0 ? 100 : Math.floor((100 * read) / total);
  return `${progress.table}: loading ${read.toLocaleString('en')} of ${total.toLocaleString('en')} offsets (${percent}%)`;
}
