// The runtime's public surface: what processors, connectors, the load generator and the CLI import.
export * from './app/index.ts';
export * from './errors.ts';
export type * from './contracts/records.ts';
export { loadConfig, envVarFor, runtimeConfigShape } from './config/index.ts';
export type { RuntimeConfig, ConfigSource } from './config/index.ts';
export { createLogger } from './observability/index.ts';
export type { Logger } from './observability/index.ts';
export { CHANGELOG_RETENTION_MS, keyedStore, recentIds, windowedStore } from './state/index.ts';
export type { KeyedStore, RecentIds, StoreDeclaration, WindowedStore, WindowEntry } from './state/index.ts';
export type { HealthStatus } from './observability/index.ts';
export {
  DEFAULT_RELATIVE_ACCURACY,
  LatencySketch,
  addToBuckets,
  addToBucketsInPlace,
  bucketIndex,
  bucketValue,
  checkBuckets,
  emptyBuckets,
} from './sketch/index.ts';
export type { LatencyBuckets } from './sketch/index.ts';
