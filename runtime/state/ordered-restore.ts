// Applies changelog records in offset order while the store's codec fetches writer schemas it has not
// seen: the reader hands records over synchronously, so a record whose schema is not fetched yet waits,
// with every record after it, until `prepare` is done. Usually only the first record waits.
import { TributaryError, describeError } from '../errors.ts';
import type { StoreCodec } from './store-codecs.ts';

type Apply = (partition: number, key: Buffer, value: Buffer | null) => void;

export class OrderedRestore {
  private readonly waiting: Array<[number, Buffer, Buffer | null]> = [];
  private draining: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly codec: StoreCodec<unknown> | undefined,
    private readonly apply: Apply,
  ) {}

  push(partition: number, key: Buffer, value: Buffer | null): void {
    if (this.failure !== undefined) return; // the restore fails at finish()
    if (this.waiting.length === 0 && !this.mustWait(value)) {
      this.apply(partition, key, value);
      return;
    }
    this.waiting.push([partition, key, value]);
    this.draining ??= this.drain().catch((error: unknown) => {
      this.failure =
        error instanceof Error
          ? error
          : new TributaryError('TRIBUTARY_STATE_RESTORE_FAILED', `restore failed: ${describeError(error)}`);
    });
  }

  /** Every record pushed is applied; throws what applying or fetching a schema threw. */
  async finish(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
    if (this.failure !== undefined) throw this.failure;
  }

  private mustWait(value: Buffer | null): boolean {
    return value !== null && this.codec !== undefined && this.codec.needsPrepare(value);
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0 && this.failure === undefined) {
        await this.codec?.prepare(this.waiting.flatMap(([, , value]) => (value === null ? [] : [value])));
        let ready = 0;
        for (const [partition, key, value] of this.waiting) {
          // A schema id that came in while `prepare` ran waits for the next round.
          if (this.mustWait(value)) break;
          this.apply(partition, key, value);
          ready++;
        }
        this.waiting.splice(0, ready);
      }
    } finally {
      this.draining = undefined;
    }
  }
}
