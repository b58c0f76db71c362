// Defaults for the developer's stack (`tributary stack …`): a fixed data dir in the checkout, well-known ports.
import { join, resolve } from 'node:path';
import { repoRoot } from './paths.ts';

export interface StackDefaults {
  dataDir: string;
  kafkaPort: number;
  controllerPort: number;
  registryPort: number;
}

function portFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name} must be a port number, got "${raw}"`);
  return port;
}

/**
 * `<repo>/.tributary/stack`, Kafka 9092 (controller 9093), registry 8081; overridden by TRIBUTARY_STACK_DIR,
 * TRIBUTARY_KAFKA_PORT, TRIBUTARY_CONTROLLER_PORT, TRIBUTARY_REGISTRY_PORT.
 */
export function stackDefaults(env: NodeJS.ProcessEnv = process.env): StackDefaults {
  return {
    dataDir: env.TRIBUTARY_STACK_DIR
      ? resolve(env.TRIBUTARY_STACK_DIR)
      : join(repoRoot, '.tributary', 'stack'),
    kafkaPort: portFromEnv(env, 'TRIBUTARY_KAFKA_PORT', 9092),
    controllerPort: portFromEnv(env, 'TRIBUTARY_CONTROLLER_PORT', 9093),
    registryPort: portFromEnv(env, 'TRIBUTARY_REGISTRY_PORT', 8081),
  };
}
