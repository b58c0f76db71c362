// Where the producing loop takes its RecordBatches from: a worker thread running the generator (the
// default: generation then costs the producing thread nothing), or the generator in this thread.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
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
    const fleet = buildFleet({
      seed: options.seed,
      services: options.services,
      customers: options.customers,
      regions: options.regions,
    });
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
    this.worker = new Worker(bootstrap(new URL('./generator-worker.ts', import.meta.url).href), {
      eval: true,
      workerData,
    });
    this.worker.on('message', (batch: RecordBatch) => this.received(batch));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => {
      if (!this.closed)
        this.fail(new Error(`the generator worker exited (code ${code}) before the run ended`));
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

/**
 * The worker's entry: register tsx in the worker (its loader registers itself on the main thread only,
 * and Node 20 workers do not inherit the main thread's hooks), then load the TypeScript module.
 */
function bootstrap(moduleUrl: string): string {
  return `import(${JSON.stringify(tsxEsmApi())}).then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl)}); });`;
}

/** The ESM build of `tsx/esm/api`, found through tsx's package.json (its CommonJS build cannot register ESM hooks). */
function tsxEsmApi(): string {
  const manifestPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports?: Record<string, { import?: { default?: string } } | string>;
  };
  const entry = manifest.exports?.['./esm/api'];
  const relative = typeof entry === 'object' ? entry.import?.default : undefined;
  if (relative === undefined) throw new Error(`cannot find tsx/esm/api in ${manifestPath}`);
  return pathToFileURL(join(dirname(manifestPath), relative)).href;
}
