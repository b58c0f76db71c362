// Where the producing loop takes its RecordBatches from: a worker thread running the generator (the
// default: generation then costs the producing thread nothing), or the generator in this thread.
import { Worker } from 'node:worker_threads';
import { buildFleet } from './fleet.ts';
import { EventGenerator } from './generator.ts';
import type { GeneratorWorkerData } from './generator-worker.ts';
import type { GeneratorOptions } from './options.ts';
import { packBatch } from './record-batch.ts';
import type { RecordBatch } from './record-batch.ts';

export interface BatchSource {
  /** The next batch in generation order; after one marked `last`, do not call again. */
  next(): Promise<RecordBatch>;
  close(): Promise<void>;
}

export const BATCH_RECORDS = 4096;

export class InlineBatchSource implements BatchSource {
  private readonly generator: EventGenerator;
  private seq = 0;

  constructor(
    options: GeneratorOptions,
    private readonly batchRecords = BATCH_RECORDS,
  ) {
    const fleet = buildFleet({ seed: options.seed, services: options.services, customers: options.customers, regions: options.regions });
    this.generator = new EventGenerator(fleet, options);
  }

  next(): Promise<RecordBatch> {
    return Promise.resolve(packBatch(this.generator, this.seq++, this.batchRecords));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class WorkerBatchSource implements BatchSource {
  private readonly worker: Worker;
  private readonly ready: RecordBatch[] = [];
  private waiter: { resolve: (batch: RecordBatch) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private sawLast = false;
  private closed = false;

  constructor(
    options: GeneratorOptions,
    batchRecords = BATCH_RECORDS,
    /** Batches generated ahead of the producer. */
    prefetch = 4,
  ) {
    const workerData: GeneratorWorkerData = { options, batchRecords };
    this.worker = new Worker(new URL('./generator-worker.ts', import.meta.url), { workerData, execArgv: ['--import', tsxLoader()] });
    this.worker.on('message', (batch: RecordBatch) => this.received(batch));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`the generator worker exited (code ${code}) before the run ended`));
    });
    for (let i = 0; i < prefetch; i++) this.worker.postMessage('more');
  }

  next(): Promise<RecordBatch> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const batch = this.ready.shift();
    if (batch !== undefined) {
      if (!this.sawLast) this.worker.postMessage('more');
      return Promise.resolve(batch);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }

  private received(batch: RecordBatch): void {
    if (batch.last) this.sawLast = true;
    const waiter = this.waiter;
    if (waiter === undefined) {
      this.ready.push(batch);
      return;
    }
    this.waiter = undefined;
    if (!this.sawLast) this.worker.postMessage('more');
    waiter.resolve(batch);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.waiter?.reject(this.failure);
    this.waiter = undefined;
  }
}

/** The worker loads TypeScript the way this process does: through tsx. */
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}
