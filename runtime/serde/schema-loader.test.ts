import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.ts';
import { canonicalSchemaJson, loadSchemas, parseSchema } from './schema-loader.ts';

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-schemas-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function loadError(files: Record<string, string>): TributaryError {
  try {
    loadSchemas(dirWith(files));
  } catch (error) {
    if (error instanceof TributaryError) return error;
    throw error;
  }
  throw new Error('expected loadSchemas to fail');
}

const record = (fields: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'record', name: 'Thing', namespace: 'tributary', fields, ...extra });

describe('loadSchemas', () => {
  it('loads the repository schemas by record name, keeping logical types in the canonical JSON', () => {
    const schemas = loadSchemas();
    expect([...schemas.keys()]).toEqual(expect.arrayContaining(['DeadLetter', 'RequestEvent']));
    const event = schemas.get('RequestEvent');
    expect(event).toMatchObject({ name: 'RequestEvent', fullName: 'tributary.RequestEvent' });
    expect(event?.json).toContain('"logicalType":"timestamp-millis"');
    expect(event?.type.isValid({})).toBe(false);
    const deadLetter = schemas.get('DeadLetter');
    expect(JSON.parse(deadLetter?.json ?? '{}')).toMatchObject({
      name: 'DeadLetter',
      namespace: 'tributary',
    });
  });

  it('names the file of a schema that does not parse', () => {
    const error = loadError({ 'broken.avsc': '{"type": "record",' });
    expect(error.code).toBe('TRIBUTARY_SCHEMA_INVALID');
    expect(error.message).toMatch(/broken\.avsc: not JSON/);
    expect(loadError({ 'bad-type.avsc': record([{ name: 'a', type: 'intt' }]) }).message).toMatch(
      /bad-type\.avsc: undefined type name: tributary\.intt/,
    );
  });

  it('enforces one record per file, namespace tributary, snake_case fields and unique names', () => {
    expect(loadError({ 'e.avsc': '{"type": "enum", "name": "E", "symbols": ["A"]}' }).message).toMatch(
      /expected one Avro record/,
    );
    expect(loadError({ 'n.avsc': record([], { namespace: 'other' }) }).message).toMatch(
      /namespace "tributary"/,
    );
    expect(loadError({ 'c.avsc': record([{ name: 'latencyMs', type: 'double' }]) }).message).toMatch(
      /"latencyMs" must be snake_case/,
    );
    expect(loadError({ 'a.avsc': record([]), 'b.avsc': record([]) }).message).toMatch(
      /b\.avsc: record Thing is already defined in .*a\.avsc/,
    );
  });
});

describe('canonicalSchemaJson', () => {
  it('does not depend on formatting or key order', () => {
    const a = '{ "name": "T", "type": "record", "fields": [ { "type": "int", "name": "a" } ] }';
    const b = '{"name":"T","type":"record","fields":[{"name":"a","type":"int"}]}';
    expect(parseSchema(a, 'a').json).toBe(parseSchema(b, 'b').json);
    expect(canonicalSchemaJson(JSON.parse(a))).toBe(b);
  });
});
