// Faults on a running stack, for the fault suite: SIGKILL the broker and start it again on its data dir,
// freeze and thaw it (SIGSTOP/SIGCONT), stop and start the registry. Each acts on the processes recorded
// in <dataDir>/stack.json and keeps that record current, so stopStack still stops what runs.
import { resolve } from 'node:path';
import { startKafkaNode, waitForKafka } from './kafka-node.ts';
import { cacheDir } from './paths.ts';
import type { ProcessRecord } from './processes.ts';
import { isAlive, signalGroup, waitForExit } from './processes.ts';
import { startRegistryNode, waitForRegistry } from './registry-node.ts';
import { StackError } from './stack-error.ts';
import type { StackState } from './state.ts';
import { readState, writeState } from './state.ts';

function runningState(dataDir: string): StackState {
  const state = readState(resolve(dataDir));
  if (state === undefined) throw new StackError('stack', `no stack is recorded in ${dataDir}`);
  return state;
}

function recorded(state: StackState, name: 'kafka' | 'registry'): ProcessRecord {
  const record = state[name];
  if (record === undefined || !isAlive(record))
    throw new StackError(name, `${name} of the stack in ${state.dataDir} is not running`);
  return record;
}

async function killAndWait(record: ProcessRecord, component: 'kafka' | 'registry'): Promise<void> {
  signalGroup(record.pid, 'SIGKILL');
  if ((await waitForExit([record], 10_000)).length > 0)
    throw new StackError(component, `pid ${record.pid} survived SIGKILL for 10 s`);
}

/** SIGKILLs the broker (no clean shutdown: its logs need recovery on the next start). */
export async function killKafka(dataDir: string): Promise<void> {
  const state = runningState(dataDir);
  await killAndWait(recorded(state, 'kafka'), 'kafka');
}

/** Starts the broker again on the same data dir and ports; resolves once it answers metadata. */
export async function restartKafka(dataDir: string, timeoutMs = 90_000): Promise<void> {
  const state = runningState(dataDir);
  if (state.kafka !== undefined && isAlive(state.kafka))
    throw new StackError('kafka', `Kafka (pid ${state.kafka.pid}) is still running`);
  state.kafka = await startKafkaNode({
    dataDir: state.dataDir,
    cacheDir: cacheDir(),
    kafkaPort: state.kafkaPort,
    controllerPort: state.controllerPort,
  });
  writeState(state);
  await waitForKafka(state.kafka, state.kafkaPort, timeoutMs);
}

/** SIGSTOP (freeze) or SIGCONT (thaw) the broker's process group: sockets stay open, nothing answers. */
export function signalKafka(dataDir: string, signal: 'SIGSTOP' | 'SIGCONT'): void {
  signalGroup(recorded(runningState(dataDir), 'kafka').pid, signal);
}

/** Stops the registry at once (SIGKILL: an outage, not a maintenance window). */
export async function stopRegistry(dataDir: string): Promise<void> {
  const state = runningState(dataDir);
  await killAndWait(recorded(state, 'registry'), 'registry');
}

/** Starts the registry again on its port and storage; resolves once it answers `/subjects`. */
export async function restartRegistry(dataDir: string, timeoutMs = 120_000): Promise<void> {
  const state = runningState(dataDir);
  state.registry = await startRegistryNode({
    dataDir: state.dataDir,
    cacheDir: cacheDir(),
    registryPort: state.registryPort,
    brokers: state.brokers,
  });
  writeState(state);
  await waitForRegistry(state.registry, state.registryUrl, timeoutMs);
}
