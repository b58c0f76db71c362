// Reference table figures: 1,000,000 customers (the load generator's fleet model) published to a
// compacted topic through the real broker, then loaded into a ReferenceTable in a fresh child process,
// so its RSS and heap hold the table and the runtime and nothing of the benchmark:
// - table_load_seconds: from load() called to every partition read to its end offset;
// - table_load_cpu_seconds: CPU the child spent in that time (all its threads, librdkafka's included): on
//   a shared machine the steadier figure of the two;
// - table_rss_mb: the child's RSS with the table loaded (after a full GC);
// - table_bytes_per_entry: (V8 heap + array buffers) after the load minus before it, per entry;
// - table_estimated_bytes_per_entry: the table's own `bytes` estimate (tributary_table_bytes) per entry.
// `tsx bench/table-bench.ts` runs it alone on a stack of its own; `bench/run.ts` runs it on the bench stack.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePorts, startStack, stopStack } from '../infra/stack/stack.ts';
import { buildFleet } from '../loadgen/fleet.ts';
import { customerRecords } from '../loadgen/reference-data.ts';
import type { CustomerRecord } from '../loadgen/reference-data.ts';
import { createLogger } from '../runtime/observability/index.ts';
import { textTable } from '../runtime/observability/terminal.ts';
import { BulkProducer, ensureTopics, withAdmin } from '../runtime/kafka/index.ts';
import {
  AvroEncoder,
  HttpSchemaRegistry,
  loadSchemas,
  registerSchemas,
  valueSubject,
} from '../runtime/serde/index.ts';
import type { LoadedSchema } from '../runtime/serde/index.ts';
import { ReferenceTable } from '../runtime/tables/index.ts';

export interface TableBenchOptions {
  brokers: string;
  registryUrl: string;
  /** Customers published and loaded. Default BENCH_TABLE_CUSTOMERS, else 1,000,000. */
  customers?: number;
  progress?: (line: string) => void;
}

interface ChildSettings {
  brokers: string;
  registryUrl: string;
  topic: string;
}

interface ChildResult {
  seconds: number;
  cpuSeconds: number;
  entries: number;
  rssMb: number;
  bytesPerEntry: number;
  estimatedBytesPerEntry: number;
}

const TOPIC = 'bench-table.ref.customers';
const SELF = fileURLToPath(import.meta.url);
const CHILD_FLAG = '--load-in-child';

function customerSchema(): LoadedSchema {
  const schema = loadSchemas().get('Customer');
  if (schema === undefined) throw new Error('schemas/customer.avsc is missing');
  return schema;
}

export async function benchTable(options: TableBenchOptions): Promise<Record<string, number>> {
  const say = options.progress ?? ((): void => undefined);
  const count = options.customers ?? Number(process.env['BENCH_TABLE_CUSTOMERS'] ?? 1_000_000);
  say(`publishing ${count.toLocaleString()} customers to ${TOPIC}`);
  await publishCustomers(options, count);
  say('loading them into a reference table in a fresh process');
  const result = await loadInChildProcess({
    brokers: options.brokers,
    registryUrl: options.registryUrl,
    topic: TOPIC,
  });
  if (result.entries !== count)
    throw new Error(`the table holds ${result.entries} customers, ${count} published`);
  return {
    table_load_seconds: result.seconds,
    table_load_records_per_s: count / result.seconds,
    table_load_cpu_seconds: result.cpuSeconds,
    table_rss_mb: result.rssMb,
    table_bytes_per_entry: result.bytesPerEntry,
    table_estimated_bytes_per_entry: result.estimatedBytesPerEntry,
  };
}

async function publishCustomers(options: TableBenchOptions, count: number): Promise<void> {
  await withAdmin(options.brokers, (admin) =>
    ensureTopics(admin, [{ name: TOPIC, partitions: 1, cleanupPolicy: 'compact' }]),
  );
  const schema = customerSchema();
  const registry = new HttpSchemaRegistry(options.registryUrl);
  const ids = await registerSchemas(registry, [{ subject: valueSubject(TOPIC), schema }]);
  const encoder = new AvroEncoder<CustomerRecord>(ids.get(valueSubject(TOPIC)) ?? 0, schema.type);
  const customers = customerRecords(buildFleet({ seed: 11, customers: count }), Date.now());
  const producer = new BulkProducer<number>(
    { brokers: options.brokers, clientId: 'bench-table' },
    () => undefined,
  );
  await producer.connect();
  for (const [i, c] of customers.entries()) {
    await producer.produce(TOPIC, c.customer_id, encoder.encode(c), i);
    if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await producer.close();
  if (producer.failed > 0) throw new Error(`${producer.failed} customers were not acknowledged`);
}

function loadInChildProcess(settings: ChildSettings): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SELF, CHILD_FLAG], {
    env: { ...process.env, TRIBUTARY_TABLE_BENCH: JSON.stringify(settings) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`the table load process exited with ${String(code)}`));
      else resolve(JSON.parse(output.trim().split('\n').pop() ?? '{}') as ChildResult);
    });
  });
}

/** In the child: heap and array buffers before and after the load, both after a full GC. */
async function loadHere(settings: ChildSettings): Promise<ChildResult> {
  const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => undefined);
  const table = new ReferenceTable<CustomerRecord>({
    name: 'customers',
    topic: settings.topic,
    brokers: settings.brokers,
    registry: new HttpSchemaRegistry(settings.registryUrl),
    readerType: customerSchema().type,
    validFrom: { from: 'field', field: 'updated_at' },
    logger: createLogger({ name: 'table-bench', level: 'warn', pretty: false }),
  });
  gc();
  const before = process.memoryUsage();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await table.load();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  gc();
  const after = process.memoryUsage();
  const stats = table.stats();
  await table.close();
  const grown = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  return {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    entries: stats.entries,
    rssMb: after.rss / 2 ** 20,
    bytesPerEntry: grown / stats.entries,
    estimatedBytesPerEntry: stats.bytes / stats.entries,
  };
}

async function standalone(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'tributary-table-bench-'));
  const [kafkaPort = 0, controllerPort = 0, registryPort = 0] = await findFreePorts(3);
  const say = (line: string): void => void process.stderr.write(`▶ ${line}\n`);
  const stack = await startStack({
    dataDir: join(workDir, 'stack'),
    kafkaPort,
    controllerPort,
    registryPort,
    onProgress: say,
  });
  try {
    const figures = await benchTable({
      brokers: stack.brokers,
      registryUrl: stack.registryUrl,
      progress: say,
    });
    const table = textTable({ head: ['figure', 'value'] });
    for (const [key, value] of Object.entries(figures)) {
      table.push([key, key.endsWith('_seconds') ? value.toFixed(2) : Math.round(value).toLocaleString()]);
    }
    console.log(table.toString());
  } finally {
    await stopStack(join(workDir, 'stack'));
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF) {
  if (process.argv.includes(CHILD_FLAG)) {
    const settings = JSON.parse(process.env['TRIBUTARY_TABLE_BENCH'] ?? '{}') as ChildSettings;
    console.log(JSON.stringify(await loadHere(settings)));
    process.exit(0);
  }
  await standalone();
}
