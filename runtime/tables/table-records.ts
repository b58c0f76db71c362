// Turns a reference topic's records into versions: key, valid time, decoded value (strings shared) or
// null for a tombstone. A record the table cannot hold (no key, undecodable, no valid time) is counted
// and logged with where it is, and the key keeps its versions; a registry outage is waited out.
import { isRetryable, isTributaryError } from '../errors.ts';
import type { Message } from '../kafka/index.ts';
import type { Logger } from '../observability/index.ts';
import { AvroDecoder } from '../serde/index.ts';
import type { SchemaRegistry } from '../serde/index.ts';
import type { Type } from 'avsc';
import { SizeSampler } from './size-estimate.ts';
import { StringSharing } from './string-sharing.ts';
import { validTimeOf } from './table-options.ts';
import type { ValidFrom } from './table-options.ts';

export interface TableVersion<V> {
  key: string;
  validFrom: number;
  /** null: a tombstone. */
  value: V | null;
  /** The record's timestamp, epoch ms. */
  timestamp: number;
}

const REGISTRY_RETRY_FIRST_MS = 500;
const REGISTRY_RETRY_MAX_MS = 30_000;

export class TableRecords<V> {
  readonly sizes = new SizeSampler();
  rejected = 0;
  private readonly decoder: AvroDecoder<V>;
  private readonly strings = new StringSharing();

  constructor(
    registry: SchemaRegistry,
    readerType: Type,
    private readonly validFrom: ValidFrom,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.decoder = new AvroDecoder<V>(registry, readerType);
  }

  /** Fetches the batch's writer schemas; retries while the registry is unavailable and `keepTrying()`. */
  async prepare(messages: readonly Message[], keepTrying: () => boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.decoder.prepare(messages.map((m) => m.value));
        return;
      } catch (error) {
        if (!isRetryable(error) || !keepTrying()) throw error;
        const waitMs = Math.min(REGISTRY_RETRY_MAX_MS, REGISTRY_RETRY_FIRST_MS * 2 ** attempt);
        this.log.warn(
          { err: error, waitMs },
          'registry unavailable while decoding a reference table; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }

  /** The version a record carries (call `prepare` on its batch first), or undefined if it is rejected. */
  toVersion(message: Message): TableVersion<V> | undefined {
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

  private reject(message: Message, problem: string, code?: string): undefined {
    this.rejected++;
    this.log.warn(
      { partition: message.partition, offset: message.offset, code, problem },
      'reference record rejected',
    );
    return undefined;
  }
}
