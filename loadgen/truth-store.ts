// Where each run's truth lives: <repo>/.tributary/runs/<run-id>/truth.json, plus `latest` naming the
// newest run. The reconciler and the tests read it back with `loadTruth`.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncidentSpec } from './incidents.ts';
import type { GeneratorOptions } from './options.ts';
import { generatorOptionsSchema } from './options.ts';
import type { Truth } from './truth.ts';

export const RUNS_DIR = fileURLToPath(new URL('../.tributary/runs/', import.meta.url));
const LATEST = 'latest';

/** `20250612T101530123Z-seed1`: when the run started (UTC, to the ms) and its seed. */
export function newRunId(seed: number, at: Date = new Date()): string {
  return `${at.toISOString().replace(/[-:.]/g, '')}-seed${seed}`;
}

export function truthPath(runId: string, runsDir: string = RUNS_DIR): string {
  return join(runsDir, runId, 'truth.json');
}

/** Writes the run's truth, then points `latest` at it (atomically: write then rename). */
export async function saveTruth(truth: Truth, runsDir: string = RUNS_DIR): Promise<string> {
  const path = truthPath(truth.run_id, runsDir);
  await mkdir(join(runsDir, truth.run_id), { recursive: true });
  await writeFile(`${path}.tmp`, `${JSON.stringify(truth, null, 1)}\n`);
  await rename(`${path}.tmp`, path);
  await writeFile(join(runsDir, `${LATEST}.tmp`), `${truth.run_id}\n`);
  await rename(join(runsDir, `${LATEST}.tmp`), join(runsDir, LATEST));
  return path;
}

/** The truth of one run, or of the newest one with 'latest'. */
export async function loadTruth(runId: string, runsDir: string = RUNS_DIR): Promise<Truth> {
  let id = runId;
  if (runId === LATEST) {
    try {
      id = (await readFile(join(runsDir, LATEST), 'utf8')).trim();
    } catch {
      throw new Error(`no load-generator run recorded yet in ${runsDir} (run \`tributary loadgen\` first)`);
    }
  }
  if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new Error(`not a run id: "${id}"`);
  const path = truthPath(id, runsDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`no truth for run "${id}" (looked for ${path})`);
  }
  const truth = JSON.parse(text) as Truth;
  if (truth.version !== 1)
    throw new Error(`${path}: truth version ${String(truth.version)}, this code reads version 1`);
  return truth;
}

/** The generator options as the truth records them (snake_case, like the rest of the file). */
export function describeGeneratorOptions(options: GeneratorOptions): Record<string, unknown> {
  return {
    seed: options.seed,
    rate: options.rate,
    time_scale: options.timeScale,
    count: options.count,
    start_ms: options.startMs,
    services: options.services,
    customers: options.customers,
    regions: options.regions,
    bad: options.bad,
    duplicates: options.duplicates,
    late: options.late,
    out_of_order: options.outOfOrder,
    noise: options.noise,
    iso_timestamps: options.isoTimestamps,
    incidents: options.incidents.map(describeIncidentSpec),
  };
}

/** Back to options that regenerate the run's deliveries byte for byte. */
export function generatorOptionsFromTruth(truth: Pick<Truth, 'generator'>): GeneratorOptions {
  const g = truth.generator;
  const incidents = (g['incidents'] as Array<Record<string, unknown>> | undefined) ?? [];
  return generatorOptionsSchema.parse({
    seed: g['seed'],
    rate: g['rate'],
    timeScale: g['time_scale'],
    count: g['count'],
    startMs: g['start_ms'],
    services: g['services'],
    customers: g['customers'],
    regions: g['regions'],
    bad: g['bad'],
    duplicates: g['duplicates'],
    late: g['late'],
    outOfOrder: g['out_of_order'],
    noise: g['noise'],
    isoTimestamps: g['iso_timestamps'],
    incidents: incidents.flatMap(incidentSpecsFrom),
  });
}

function describeIncidentSpec(spec: IncidentSpec): Record<string, unknown> {
  const base = { kind: spec.kind, service: spec.service, from_s: spec.fromS, to_s: spec.toS };
  if (spec.kind === 'error_burst') return { ...base, error_rate: spec.errorRate };
  if (spec.kind === 'latency_spike') return { ...base, latency_x: spec.latencyX };
  return { ...base, traffic_share: spec.trafficShare };
}

/** One spec back; a truth from before incident kinds held an error burst and a latency spike in one. */
function incidentSpecsFrom(i: Record<string, unknown>): Array<Record<string, unknown>> {
  const base = { service: i['service'], fromS: i['from_s'], toS: i['to_s'] };
  if (i['kind'] === undefined) {
    return [
      { ...base, kind: 'error_burst', errorRate: i['error_rate'] },
      { ...base, kind: 'latency_spike', latencyX: i['latency_x'] },
    ];
  }
  return [
    {
      ...base,
      kind: i['kind'],
      errorRate: i['error_rate'],
      latencyX: i['latency_x'],
      trafficShare: i['traffic_share'],
    },
  ];
}
