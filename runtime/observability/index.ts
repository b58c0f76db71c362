export { createLogger } from './logger.ts';
export type { Logger, LoggerOptions } from './logger.ts';
export { startHealthServer } from './health-server.ts';
export type { HealthServer, HealthSources, HealthStatus } from './health-server.ts';
