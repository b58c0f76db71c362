export { loadConfig, envVarFor, redactConfig, ENV_PREFIX, CONFIG_FILE_ENV } from './load-config.ts';
export type { ConfigShape, ConfigSchema, ConfigSource } from './load-config.ts';
export { runtimeConfigShape, runtimeConfigSchema } from './runtime-config.ts';
export type { RuntimeConfig } from './runtime-config.ts';
export { kafkaSecurityShape, securityConfigShape } from './security-config.ts';
export type { SecurityConfig } from './security-config.ts';
