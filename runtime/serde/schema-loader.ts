// Loads schemas/*.avsc: one Avro record per file, namespace `tributary`, snake_case fields.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import type { Type } from 'avsc';
import { TributaryError, describeError } from '../errors.ts';

/** The repository's schemas/ folder. */
export const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

export const SCHEMA_NAMESPACE = 'tributary';

export interface LoadedSchema {
  /** Record name, e.g. `RequestEvent`. */
  name: string;
  /** Namespace-qualified name, e.g. `tributary.RequestEvent`. */
  fullName: string;
  /** Canonical JSON (compact, keys in a fixed order): what is registered and looked up. */
  json: string;
  type: Type;
}

/**
 * Parses one Avro schema. Timestamps (`timestamp-millis`) stay plain numbers: avsc is given no
 * logical-type implementations, so the logical type is carried in `json` but not interpreted.
 */
export function parseSchema(text: string, source: string): LoadedSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalid(source, `not JSON: ${describeError(error)}`, error);
  }
  let type: Type;
  try {
    type = avro.Type.forSchema(raw as avro.Schema);
  } catch (error) {
    throw invalid(source, describeError(error), error);
  }
  const fullName = type.name ?? type.typeName;
  const name = fullName.slice(fullName.lastIndexOf('.') + 1);
  return { name, fullName, json: canonicalSchemaJson(raw), type };
}

/**
 * Reads every `*.avsc` in `dir` (not recursive, synchronously: it runs once at start) → map by
 * record name. Each file must hold one record
 * in namespace `tributary` with snake_case field names; record names must be unique.
 */
export function loadSchemas(dir: string = SCHEMAS_DIR): Map<string, LoadedSchema> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort();
  const byName = new Map<string, LoadedSchema>();
  const fileOf = new Map<string, string>();
  for (const file of files) {
    const path = join(dir, file);
    const schema = parseSchema(readFileSync(path, 'utf8'), path);
    checkConventions(schema, path);
    const previous = fileOf.get(schema.name);
    if (previous !== undefined) {
      throw invalid(path, `record ${schema.name} is already defined in ${previous}`);
    }
    byName.set(schema.name, schema);
    fileOf.set(schema.name, path);
  }
  return byName;
}

function checkConventions(schema: LoadedSchema, path: string): void {
  if (!(schema.type instanceof avro.types.RecordType)) {
    throw invalid(path, `expected one Avro record, got ${schema.type.typeName}`);
  }
  if (schema.fullName !== `${SCHEMA_NAMESPACE}.${schema.name}`) {
    throw invalid(path, `record ${schema.fullName} must be in namespace "${SCHEMA_NAMESPACE}"`);
  }
  if (!/^[A-Z][A-Za-z0-9]*$/.test(schema.name)) {
    throw invalid(path, `record name ${schema.name} must be PascalCase`);
  }
  for (const field of schema.type.fields) {
    if (!/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(field.name)) {
      throw invalid(path, `field "${field.name}" must be snake_case`);
    }
  }
}

function invalid(source: string, problem: string, cause?: unknown): TributaryError {
  return new TributaryError('TRIBUTARY_SCHEMA_INVALID', `${source}: ${problem}`, {
    cause,
    context: { file: source },
  });
}

// Keys of a schema object in the order the canonical JSON writes them; any other key follows, sorted.
const KEY_ORDER = [
  'name',
  'namespace',
  'type',
  'doc',
  'aliases',
  'fields',
  'symbols',
  'items',
  'values',
  'size',
  'logicalType',
  'precision',
  'scale',
  'default',
  'order',
];
const KEY_RANK = new Map(KEY_ORDER.map((key, i) => [key, i]));

/**
 * Compact JSON with object keys in a fixed order, so that a schema file's formatting and key order do
 * not make a "new" schema. Everything is kept (docs, defaults, logical types): unlike Avro's Parsing
 * Canonical Form, this is what gets registered.
 */
export function canonicalSchemaJson(schema: unknown): string {
  return JSON.stringify(sortKeys(schema));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  entries.sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, inner]) => [key, sortKeys(inner)]));
}

function rank(key: string): number {
  return KEY_RANK.get(key) ?? KEY_ORDER.length;
}
