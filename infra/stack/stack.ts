// The local stack: one Kafka node and one schema registry as detached processes, tracked in
// <dataDir>/stack.json. Used by `tributary stack …` and by the test suite's globalSetup.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { listTopics, startKafkaNode, waitForKafka } from './kafka-node.ts';
import { lockDataDir } from './lock.ts';
import { cacheDir } from './paths.ts';
import { assertPortFree, findFreePort, findFreePorts } from './ports.ts';
import type { ProcessRecord } from './processes.ts';
import { isAlive, signalGroup, waitForExit } from './processes.ts';
import { registryAnswers, registryUrlFor, startRegistryNode, waitForRegistry } from './registry-node.ts';
import type { StackState } from './state.ts';
import { readState, removeState, stateFile, writeState } from './state.ts';
import { StackError } from './stack-error.ts';

export { findFreePort, findFreePorts, StackError };

export interface StackOptions {
  dataDir: string;
  kafkaPort: number;
  controllerPort: number;
  registryPort: number;
  onProgress?: (line: string) => void;
  /** Where setup put the Kafka classpath and the registry build. Default: same rule as setup.sh. */
  cacheDir?: string;
  /** Broker heap. Default `512m`. */
  kafkaHeap?: string;
  /** How long Kafka may take to answer metadata. Default 90 000 ms. */
  kafkaTimeoutMs?: number;
  /** How long the registry may take to answer `/subjects`. Default 120 000 ms. */
  registryTimeoutMs?: number;
}

export interface StackInfo {
  brokers: string;
  registryUrl: string;
  kafkaPid: number;
  registryPid: number;
  dataDir: string;
}

export interface StartResult extends StackInfo {
  /** True when a running stack was found in the data dir and nothing was started. */
  alreadyRunning: boolean;
}

const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function infoFrom(state: StackState, alreadyRunning: boolean): StartResult {
  return {
    brokers: state.brokers,
    registryUrl: state.registryUrl,
    kafkaPid: state.kafka?.pid ?? -1,
    registryPid: state.registry?.pid ?? -1,
    dataDir: state.dataDir,
    alreadyRunning,
  };
}

/** Stops the recorded processes: registry first (it writes to Kafka), SIGTERM, then SIGKILL after the grace time. */
async function stopProcesses(
  state: StackState,
  progress: (line: string) => void,
  graceMs = 20_000,
): Promise<string[]> {
  const forced: string[] = [];
  const deadline = Date.now() + graceMs;
  const named: [string, ProcessRecord | undefined][] = [
    ['schema registry', state.registry],
    ['Kafka', state.kafka],
  ];
  for (const [name, record] of named) {
    if (record === undefined || !isAlive(record)) continue;
    const started = Date.now();
    signalGroup(record.pid, 'SIGTERM');
    const left = await waitForExit([record], Math.max(1000, deadline - Date.now()));
    if (left.length > 0) {
      signalGroup(record.pid, 'SIGKILL');
      await waitForExit(left, 5000);
      forced.push(name);
      progress(`${name} (pid ${record.pid}) ignored SIGTERM for ${seconds(started)}: killed`);
    } else {
      progress(`${name} (pid ${record.pid}) stopped in ${seconds(started)}`);
    }
  }
  return forced;
}

/** Deals with a state file left in the data dir; returns the running stack if there is one. */
async function adoptExisting(
  dataDir: string,
  progress: (line: string) => void,
): Promise<StartResult | undefined> {
  const state = readState(dataDir);
  if (state === undefined) return undefined;
  const kafkaUp = state.kafka !== undefined && isAlive(state.kafka);
  const registryUp = state.registry !== undefined && isAlive(state.registry);
  if (kafkaUp && registryUp) return infoFrom(state, true);
  if (!kafkaUp && !registryUp) {
    progress(
      `note: removed a stale ${stateFile(dataDir)} (pids ${state.kafka?.pid ?? '-'}, ${state.registry?.pid ?? '-'} are gone)`,
    );
  } else {
    const up = kafkaUp ? 'Kafka' : 'the schema registry';
    progress(
      `note: only ${up} of the stack in ${dataDir} is running: stopping it to start the whole stack again`,
    );
    await stopProcesses(state, progress);
  }
  removeState(dataDir);
  return undefined;
}

async function assertPortsUsable(opts: StackOptions): Promise<void> {
  const ports: [string, number][] = [
    ['Kafka', opts.kafkaPort],
    ['Kafka controller', opts.controllerPort],
    ['schema registry', opts.registryPort],
  ];
  for (const [role, port] of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new StackError('stack', `${role} port must be an integer in 1–65535, got ${port}`);
    }
  }
  if (new Set(ports.map(([, port]) => port)).size !== ports.length) {
    throw new StackError(
      'stack',
      `the Kafka, controller and registry ports must differ, got ${ports.map(([, p]) => p).join(', ')}`,
    );
  }
  await assertPortFree('kafka', 'Kafka', opts.kafkaPort);
  await assertPortFree('kafka', 'Kafka controller', opts.controllerPort);
  await assertPortFree('registry', 'schema registry', opts.registryPort);
}

/** Starts Kafka, then the registry (it stores its schemas in Kafka); resolves when both answer. */
export async function startStack(opts: StackOptions): Promise<StartResult> {
  const progress = opts.onProgress ?? (() => undefined);
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const release = lockDataDir(dataDir);
  try {
    const running = await adoptExisting(dataDir, progress);
    if (running !== undefined) return running;
    await assertPortsUsable(opts);
    return await launch({ ...opts, dataDir }, progress);
  } finally {
    release();
  }
}

async function launch(opts: StackOptions, progress: (line: string) => void): Promise<StartResult> {
  const brokers = `127.0.0.1:${opts.kafkaPort}`;
  const state: StackState = {
    version: 1,
    dataDir: opts.dataDir,
    brokers,
    registryUrl: registryUrlFor(opts.registryPort),
    kafkaPort: opts.kafkaPort,
    controllerPort: opts.controllerPort,
    registryPort: opts.registryPort,
    startedAt: new Date().toISOString(),
  };
  const cache = opts.cacheDir ?? cacheDir();
  try {
    let started = Date.now();
    progress(`starting Kafka on ${brokers} (controller port ${opts.controllerPort})…`);
    const kafkaOptions = {
      dataDir: opts.dataDir,
      cacheDir: cache,
      kafkaPort: opts.kafkaPort,
      controllerPort: opts.controllerPort,
    };
    state.kafka = await startKafkaNode(
      opts.kafkaHeap === undefined ? kafkaOptions : { ...kafkaOptions, heap: opts.kafkaHeap },
    );
    writeState(state);
    await waitForKafka(state.kafka, opts.kafkaPort, opts.kafkaTimeoutMs ?? 90_000);
    progress(`Kafka ready in ${seconds(started)} (pid ${state.kafka.pid})`);

    started = Date.now();
    progress(`starting schema registry on ${state.registryUrl}…`);
    state.registry = await startRegistryNode({
      dataDir: opts.dataDir,
      cacheDir: cache,
      registryPort: opts.registryPort,
      brokers,
    });
    writeState(state);
    await waitForRegistry(state.registry, state.registryUrl, opts.registryTimeoutMs ?? 120_000);
    progress(`schema registry ready in ${seconds(started)} (pid ${state.registry.pid})`);
    return infoFrom(state, false);
  } catch (error) {
    // Leave nothing half-started behind: the error already carries the failing component's log.
    await stopProcesses(state, () => undefined, 5000);
    removeState(opts.dataDir);
    throw error;
  }
}

export interface StopResult {
  /** False when there was no state file (nothing to stop). */
  wasRunning: boolean;
  /** Components that had to be SIGKILLed. */
  forced: string[];
}

/** SIGTERM both process groups, SIGKILL what is left after ~20 s, remove the state file. */
export async function stopStack(dataDir: string, onProgress?: (line: string) => void): Promise<StopResult> {
  const dir = resolve(dataDir);
  if (readState(dir) === undefined) return { wasRunning: false, forced: [] };
  const release = lockDataDir(dir);
  try {
    const state = readState(dir);
    if (state === undefined) return { wasRunning: false, forced: [] };
    const forced = await stopProcesses(state, onProgress ?? (() => undefined));
    removeState(dir);
    return { wasRunning: true, forced };
  } finally {
    release();
  }
}

export interface ComponentStatus {
  name: 'kafka' | 'registry';
  pid: number | null;
  /** The recorded process exists (and is the one we started). */
  running: boolean;
  /** It answers: Kafka a metadata request, the registry `GET /subjects` with 200. */
  ready: boolean;
  address: string;
  logFile: string | null;
}

export interface StackStatus {
  dataDir: string;
  /**
   * `running`: both answer; `degraded`: something is down or not answering; `stale`: a state file whose
   * processes are all gone (the next `startStack` cleans it up); `stopped`: no state file.
   */
  state: 'running' | 'degraded' | 'stale' | 'stopped';
  startedAt: string | null;
  components: ComponentStatus[];
}

export async function stackStatus(dataDir: string): Promise<StackStatus> {
  const dir = resolve(dataDir);
  const state = readState(dir);
  if (state === undefined) return { dataDir: dir, state: 'stopped', startedAt: null, components: [] };
  const kafkaRunning = state.kafka !== undefined && isAlive(state.kafka);
  const registryRunning = state.registry !== undefined && isAlive(state.registry);
  const [kafkaReady, registryReady] = await Promise.all([
    kafkaRunning
      ? listTopics(state.brokers, 3000).then(
          () => true,
          () => false,
        )
      : Promise.resolve(false),
    registryRunning ? registryAnswers(state.registryUrl) : Promise.resolve(false),
  ]);
  const components: ComponentStatus[] = [
    {
      name: 'kafka',
      pid: state.kafka?.pid ?? null,
      running: kafkaRunning,
      ready: kafkaReady,
      address: state.brokers,
      logFile: state.kafka?.logFile ?? null,
    },
    {
      name: 'registry',
      pid: state.registry?.pid ?? null,
      running: registryRunning,
      ready: registryReady,
      address: state.registryUrl,
      logFile: state.registry?.logFile ?? null,
    },
  ];
  const overall =
    kafkaReady && registryReady ? 'running' : kafkaRunning || registryRunning ? 'degraded' : 'stale';
  return { dataDir: dir, state: overall, startedAt: state.startedAt, components };
}
