// Loads a component's config from env vars (and an optional JSON file), validated by its zod schema.
// This folder is the only reader of process.env in the runtime.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import type { ConfigIssue } from '../errors.ts';
import { ConfigError, describeError } from '../errors.ts';

export type ConfigShape = Record<string, z.ZodType>;
export type ConfigSchema<S extends ConfigShape = ConfigShape> = z.ZodObject<S>;

export const ENV_PREFIX = 'TRIBUTARY_';
/** Path of an optional JSON file with the same keys (camelCase); env vars win over it. */
export const CONFIG_FILE_ENV = 'TRIBUTARY_CONFIG_FILE';

export interface ConfigSource {
  env?: Record<string, string | undefined>;
  /** Explicit values (e.g. from tests or CLI flags); they win over env and file. */
  overrides?: Record<string, unknown>;
}

/** `maxBatchRecords` → `TRIBUTARY_MAX_BATCH_RECORDS`. */
export function envVarFor(key: string): string {
  return ENV_PREFIX + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function baseKind(type: z.ZodType): string {
  let current = type as z.ZodType & { _zod: { def: { type: string; innerType?: z.ZodType } } };
  while (current._zod.def.innerType !== undefined) {
    current = current._zod.def.innerType;
  }
  return current._zod.def.type;
}

/** Env vars are strings; turn them into what the schema expects so validation reports real problems. */
function coerce(raw: string, kind: string): unknown {
  const trimmed = raw.trim();
  switch (kind) {
    case 'number':
    case 'int':
      return trimmed === '' ? raw : Number(trimmed);
    case 'boolean':
      if (['true', '1', 'yes'].includes(trimmed.toLowerCase())) return true;
      if (['false', '0', 'no'].includes(trimmed.toLowerCase())) return false;
      return raw;
    case 'array':
      return trimmed === '' ? [] : trimmed.split(',').map((part) => part.trim());
    default:
      return raw;
  }
}

function readConfigFile(path: string, issues: ConfigIssue[]): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
    issues.push({
      key: '(file)',
      envVar: CONFIG_FILE_ENV,
      problem: `${path} is not a JSON object`,
      fix: 'write the keys as one JSON object',
    });
  } catch (error) {
    issues.push({
      key: '(file)',
      envVar: CONFIG_FILE_ENV,
      problem: `cannot read ${path}: ${describeError(error)}`,
      fix: 'point it at a readable JSON file or unset it',
    });
  }
  return {};
}

const SECRET_KEY = /password|secret|token|credential/i;

/** A secret may come from a file named by TRIBUTARY_<KEY>_FILE (its content, final newline dropped). */
function secretFromFile(
  key: string,
  env: Record<string, string | undefined>,
  issues: ConfigIssue[],
): string | undefined {
  const envVar = `${envVarFor(key)}_FILE`;
  const path = env[envVar];
  if (!SECRET_KEY.test(key) || path === undefined || path === '') return undefined;
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    issues.push({
      key,
      envVar,
      problem: `cannot read ${path}: ${describeError(error)}`,
      fix: 'point it at a readable file that holds only the secret',
    });
    return undefined;
  }
}

/** What the user gave, for an error message; never a secret's value. */
function describeGiven(key: string, value: unknown): string {
  if (value === undefined) return 'missing';
  return SECRET_KEY.test(key) ? 'got a value (not shown: a secret)' : `got ${JSON.stringify(value)}`;
}

function fixFor(key: string, type: z.ZodType | undefined): string {
  const description = type?.description;
  return description === undefined
    ? `set ${envVarFor(key)} to a valid value`
    : `${envVarFor(key)}: ${description}`;
}

/**
 * Validates every key at once and throws one ConfigError listing each invalid key, its env var and what
 * to put there. Keys in the file that the schema does not know are errors too (typos must not be silent).
 */
export function loadConfig<S extends ConfigShape>(
  component: string,
  schema: ConfigSchema<S>,
  source: ConfigSource = {},
): Readonly<z.infer<ConfigSchema<S>>> {
  const env = source.env ?? process.env;
  const issues: ConfigIssue[] = [];
  const raw: Record<string, unknown> = {};
  /** What the user actually wrote, for error messages (coercion may have turned "lots" into NaN). */
  const written: Record<string, unknown> = {};
  const filePath = env[CONFIG_FILE_ENV];
  if (filePath !== undefined && filePath !== '') {
    const fromFile = readConfigFile(filePath, issues);
    for (const [key, value] of Object.entries(fromFile)) {
      if (key in schema.shape) raw[key] = written[key] = value;
      else
        issues.push({
          key,
          envVar: CONFIG_FILE_ENV,
          problem: `unknown key "${key}" in ${filePath}`,
          fix: `remove it; known keys: ${Object.keys(schema.shape).join(', ')}`,
        });
    }
  }
  for (const [key, type] of Object.entries(schema.shape)) {
    const value = env[envVarFor(key)] ?? secretFromFile(key, env, issues);
    if (value === undefined) continue;
    raw[key] = coerce(value, baseKind(type));
    written[key] = value;
  }
  Object.assign(raw, source.overrides ?? {});
  Object.assign(written, source.overrides ?? {});

  const result = schema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path.map(String).join('.') || '(root)';
      const topKey = String(issue.path[0] ?? '');
      const given = describeGiven(topKey, written[topKey]);
      issues.push({
        key,
        envVar: envVarFor(topKey),
        problem: `${issue.message} (${given})`,
        fix: fixFor(topKey, schema.shape[topKey]),
      });
    }
  }
  if (issues.length > 0 || !result.success) {
    const lines = issues.map((i) => `  - ${i.envVar} (${i.key}): ${i.problem}\n      fix: ${i.fix}`);
    throw new ConfigError(`invalid configuration for ${component}:\n${lines.join('\n')}`, issues);
  }
  return Object.freeze(result.data);
}

/** The config as it may be logged: values of secret-looking keys replaced. */
export function redactConfig(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key,
      SECRET_KEY.test(key) && value !== undefined ? '[redacted]' : value,
    ]),
  );
}
