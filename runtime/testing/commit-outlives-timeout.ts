// A transactional producer whose chosen commit first waits out the coordinator's transaction timeout:
// what a commit resumed across a broker outage longer than transaction.timeout.ms meets.
import { TributaryError } from '../errors.ts';
import { TransactionalProducer, sleep } from '../kafka/index.ts';
import type { TransactionalProducerOptions } from '../kafka/index.ts';

/**
 * At its `atCommit`-th commit, waits until the coordinator has aborted the open transaction on its
 * timeout, then commits for real: what a commit resumed across a broker outage longer than the timeout
 * meets. `heldCommitError` is the broker's answer, as the loop got it.
 */
export class CommitOutlivesTimeout extends TransactionalProducer {
  private commits = 0;
  heldCommitError: string | undefined;

  constructor(
    settings: ConstructorParameters<typeof TransactionalProducer>[0],
    options: TransactionalProducerOptions,
    private readonly atCommit: number,
    private readonly holdMs: number,
  ) {
    super(settings, options);
  }

  override async commit(): Promise<void> {
    if (++this.commits !== this.atCommit) return super.commit();
    await sleep(this.holdMs);
    try {
      await super.commit();
      this.heldCommitError = 'none';
    } catch (error) {
      this.heldCommitError = error instanceof TributaryError ? error.code : String(error);
      throw error;
    }
  }
}
