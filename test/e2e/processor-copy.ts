// One named processor copy in an end-to-end test: SIGKILLed and restarted with the same identity (its
// instance id, so it fences its dead predecessor), or stopped with SIGTERM.
import { expect } from 'vitest';
import { startProcessor } from '../../infra/pipeline/processor-process.ts';
import type { ProcessorProcess } from '../../infra/pipeline/processor-process.ts';

export class ProcessorCopy {
  process: ProcessorProcess;

  constructor(
    readonly name: string,
    private readonly environment: Record<string, string>,
    private readonly log: string,
  ) {
    this.process = startProcessor(name, environment, log);
  }

  async killAndRestart(): Promise<void> {
    this.process.kill('SIGKILL');
    expect((await this.process.exited).signal).toBe('SIGKILL');
    this.process = startProcessor(this.name, this.environment, this.log);
  }

  /** Whether the run in hand is still alive. */
  get running(): boolean {
    return this.process.child.exitCode === null && this.process.child.signalCode === null;
  }

  /** SIGTERM; resolves with the exit code (0: it finished its batch and committed). */
  async stop(): Promise<number | null> {
    this.process.kill('SIGTERM');
    return (await this.process.exited).code;
  }
}
