// The one error the stack manager throws: which component failed, and a message that says what to do.

export type StackComponent = 'kafka' | 'registry' | 'stack';

export class StackError extends Error {
  constructor(
    readonly component: StackComponent,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StackError';
  }
}
