export { createLogger } from './logger.ts';
export type { Logger, LoggerOptions } from './logger.ts';
export { ProcessorMetrics, RUNTIME_OUTCOMES } from './metrics.ts';
export type { RuntimeOutcome } from './metrics.ts';
export { startHealthServer } from './health-server.ts';
export type { HealthServer, HealthSources, HealthStatus } from './health-server.ts';
