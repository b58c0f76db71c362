// A transactional producer whose chosen commit first waits out the coordinator's transaction timeout,
// so the coordinator has aborted the open transaction and bumped the epoch by the time it goes on.
import { TributaryError } from '../errors.ts';
import { TransactionalProducer, sleep } from '../kafka/index.ts';
import type { TransactionalProducerOptions } from '../kafka/index.ts';

/**
 * What the held commit does next: `commit` commits for real (a commit resumed across a broker outage
 * longer than the timeout); `fail-abortable` fails as librdkafka does when the batch's records timed out
 * during a broker restart (abortable: the abort must bump the epoch).
 */
export type AfterHold = 'commit' | 'fail-abortable';

export class CommitOutlivesTimeout extends TransactionalProducer {
  private commits = 0;
  heldAt: number | undefined;
  /** The held commit's outcome as the loop got it: an error code, or 'none'. */
  heldCommitError: string | undefined;

  constructor(
    settings: ConstructorParameters<typeof TransactionalProducer>[0],
    options: TransactionalProducerOptions,
    private readonly atCommit: number,
    private readonly holdMs: number,
    private readonly afterHold: AfterHold = 'commit',
  ) {
    super(settings, options);
  }

  override async commit(): Promise<void> {
    if (++this.commits !== this.atCommit) return super.commit();
    this.heldAt = Date.now();
    await sleep(this.holdMs);
    try {
      if (this.afterHold === 'fail-abortable')
        throw new TributaryError(
          'TRIBUTARY_KAFKA_ABORTABLE',
          'commitTransaction: 12 message(s) timed out (requires epoch bump)',
        );
      await super.commit();
      this.heldCommitError = 'none';
    } catch (error) {
      this.heldCommitError = error instanceof TributaryError ? error.code : String(error);
      throw error;
    }
  }
}
