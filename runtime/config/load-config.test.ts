import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { envVarFor, loadConfig, redactConfig } from './load-config.ts';
import { runtimeConfigSchema } from './runtime-config.ts';

const schema = z.object({
  maxBatchRecords: z.number().int().min(1).default(100).describe('records per batch'),
  kafkaBrokers: z.string().min(1),
  dryRun: z.boolean().default(false),
  regions: z.array(z.string()).default([]),
});

function failure(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('maps camelCase keys to TRIBUTARY_ env vars', () => {
    expect(envVarFor('maxBatchRecords')).toBe('TRIBUTARY_MAX_BATCH_RECORDS');
    expect(envVarFor('kafkaBrokers')).toBe('TRIBUTARY_KAFKA_BROKERS');
  });

  it('applies defaults and coerces env strings to the schema types', () => {
    const config = loadConfig('t', schema, {
      env: { TRIBUTARY_KAFKA_BROKERS: 'b:1', TRIBUTARY_DRY_RUN: 'true', TRIBUTARY_REGIONS: 'eu, us' },
    });
    expect(config).toEqual({
      maxBatchRecords: 100,
      kafkaBrokers: 'b:1',
      dryRun: true,
      regions: ['eu', 'us'],
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lists every invalid key in one error with its env var and what to fix', () => {
    const error = failure(() =>
      loadConfig('ingest', schema, {
        env: { TRIBUTARY_MAX_BATCH_RECORDS: 'lots', TRIBUTARY_DRY_RUN: 'maybe' },
      }),
    );
    expect(error.code).toBe('TRIBUTARY_CONFIG_INVALID');
    expect(error.issues.map((i) => i.envVar).sort()).toEqual([
      'TRIBUTARY_DRY_RUN',
      'TRIBUTARY_KAFKA_BROKERS',
      'TRIBUTARY_MAX_BATCH_RECORDS',
    ]);
    expect(error.message).toContain('invalid configuration for ingest');
    expect(error.message).toContain('records per batch');
    expect(error.message).toContain('got "lots"');
  });

  it('reads an optional JSON file, lets env win, and rejects unknown keys in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ kafkaBrokers: 'file:1', maxBatchRecords: 7 }));
    const config = loadConfig('t', schema, {
      env: { TRIBUTARY_CONFIG_FILE: file, TRIBUTARY_KAFKA_BROKERS: 'env:1' },
    });
    expect(config.kafkaBrokers).toBe('env:1');
    expect(config.maxBatchRecords).toBe(7);

    writeFileSync(file, JSON.stringify({ kafkaBrokers: 'x:1', maxBatchRecord: 7 }));
    const error = failure(() => loadConfig('t', schema, { env: { TRIBUTARY_CONFIG_FILE: file } }));
    expect(error.message).toContain('unknown key "maxBatchRecord"');
  });

  it('validates the shared runtime keys (broker list shape, ports)', () => {
    const error = failure(() =>
      loadConfig('p', runtimeConfigSchema, {
        env: { TRIBUTARY_KAFKA_BROKERS: 'localhost', TRIBUTARY_HTTP_PORT: '70000' },
      }),
    );
    expect(error.issues.map((i) => i.key).sort()).toEqual(['httpPort', 'kafkaBrokers']);
    expect(loadConfig('p', runtimeConfigSchema, { env: {} }).kafkaBrokers).toBe('127.0.0.1:9092');
  });

  it('redacts secret-looking keys for logging', () => {
    expect(redactConfig({ clickhousePassword: 'hunter2', kafkaBrokers: 'a:1' })).toEqual({
      clickhousePassword: '[redacted]',
      kafkaBrokers: 'a:1',
    });
  });
});
