// vitest globalSetup for the `stack` project: one real Kafka + schema registry for the whole run, in a fresh
// temp dir on free ports, stopped and removed at the end (by a watchdog process if the run is killed first).
// Tests read the addresses with inject('brokers') and inject('registryUrl'). With TRIBUTARY_TEST_BROKERS and
// TRIBUTARY_TEST_REGISTRY_URL both set, those are used instead and nothing is started.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { findFreePorts, startStack, stopStack } from '../infra/stack/stack.ts';
import { startWatchdog } from '../infra/stack/watchdog.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    brokers: string;
    registryUrl: string;
  }
}

const say = (line: string): void => console.log(`[stack] ${line}`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const externalBrokers = process.env.TRIBUTARY_TEST_BROKERS;
  const externalRegistry = process.env.TRIBUTARY_TEST_REGISTRY_URL;
  if (externalBrokers && externalRegistry) {
    say(
      `using the stack from TRIBUTARY_TEST_BROKERS=${externalBrokers} and TRIBUTARY_TEST_REGISTRY_URL=${externalRegistry}`,
    );
    project.provide('brokers', externalBrokers);
    project.provide('registryUrl', externalRegistry);
    return () => Promise.resolve();
  }

  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-test-stack-'));
  const [kafkaPort = 0, controllerPort = 0, registryPort = 0] = await findFreePorts(3);
  // If this run is killed before its teardown, the watchdog stops the stack and removes the dir.
  startWatchdog(dataDir, true);
  const started = Date.now();
  say(
    `starting a stack in ${dataDir} (Kafka ${kafkaPort}, controller ${controllerPort}, registry ${registryPort})`,
  );
  let info;
  try {
    info = await startStack({ dataDir, kafkaPort, controllerPort, registryPort, onProgress: say });
  } catch (error) {
    say(`the stack did not start; its data and logs are kept in ${dataDir}`);
    throw error;
  }
  say(
    `stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s: brokers ${info.brokers}, registry ${info.registryUrl}`,
  );
  project.provide('brokers', info.brokers);
  project.provide('registryUrl', info.registryUrl);

  return async () => {
    const stopping = Date.now();
    await stopStack(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
    say(`stack stopped and removed in ${((Date.now() - stopping) / 1000).toFixed(1)} s`);
  };
}
