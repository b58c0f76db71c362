// The generator in its own thread: builds a RecordBatch per request and hands it over without copying,
// so the producing thread spends its time producing.
import { parentPort, workerData } from 'node:worker_threads';
import { buildFleet } from './fleet.ts';
import { EventGenerator } from './generator.ts';
import type { GeneratorOptions } from './options.ts';
import { packBatch } from './record-batch.ts';

export interface GeneratorWorkerData {
  options: GeneratorOptions;
  batchRecords: number;
}

const port = parentPort;
if (port === null) throw new Error('generator-worker.ts runs as a worker thread');
const { options, batchRecords } = workerData as GeneratorWorkerData;
const fleet = buildFleet({
  seed: options.seed,
  services: options.services,
  customers: options.customers,
  regions: options.regions,
});
const generator = new EventGenerator(fleet, options);
let seq = 0;
port.on('message', () => {
  const batch = packBatch(generator, seq++, batchRecords);
  port.postMessage(batch, [
    batch.values.buffer as ArrayBuffer,
    batch.ends.buffer as ArrayBuffer,
    batch.facts.buffer as ArrayBuffer,
  ]);
});
