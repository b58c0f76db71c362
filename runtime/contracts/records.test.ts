import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.ts';
import { loadSchemas, parseSchema } from '../serde/schema-loader.ts';
import type { LoadedSchema } from '../serde/schema-loader.ts';
import { GENERATED_RECORDS_PATH, renderRecordTypes } from './render-records.ts';

const REPO_ROOT = new URL('../../', import.meta.url);

function schemasOf(...texts: object[]): Map<string, LoadedSchema> {
  const parsed = texts.map((text, i) => parseSchema(JSON.stringify(text), `inline-${i}.avsc`));
  return new Map(parsed.map((schema) => [schema.name, schema]));
}

describe('generated record types', () => {
  it(`${GENERATED_RECORDS_PATH} is what schemas/*.avsc generate (run ./tributary schemas generate)`, () => {
    const committed = readFileSync(new URL(GENERATED_RECORDS_PATH, REPO_ROOT), 'utf8');
    expect(committed).toBe(renderRecordTypes(loadSchemas()));
  });

  it('a schema change shows as a difference from the committed file', () => {
    const schemas = loadSchemas();
    const event = schemas.get('RequestEvent');
    expect(event).toBeDefined();
    const raw = JSON.parse(event?.json ?? '{}') as { fields: object[] };
    raw.fields.push({ name: 'trace_id', type: ['null', 'string'], default: null });
    schemas.set('RequestEvent', parseSchema(JSON.stringify(raw), 'request-event.avsc'));
    expect(renderRecordTypes(schemas)).toContain('  trace_id: null | string;');
    expect(renderRecordTypes(schemas)).not.toBe(renderRecordTypes(loadSchemas()));
  });

  it('renders enums, arrays, maps, fixed, nullable unions and nested records, nested ones first', () => {
    const text = renderRecordTypes(
      schemasOf({
        type: 'record',
        name: 'Window',
        namespace: 'tributary',
        doc: 'One window.',
        fields: [
          { name: 'state', type: { type: 'enum', name: 'WindowState', symbols: ['OPEN', 'CLOSED'] } },
          { name: 'counts', type: { type: 'array', items: 'long' }, doc: 'Per minute.' },
          { name: 'by_region', type: { type: 'map', values: 'double' } },
          { name: 'digest', type: { type: 'fixed', name: 'Digest', size: 16 } },
          {
            name: 'top',
            type: ['null', { type: 'record', name: 'Top', fields: [{ name: 'key', type: 'string' }] }],
            default: null,
          },
          { name: 'ok', type: 'boolean' },
        ],
      }),
    );
    expect(text).toContain("export type WindowState = 'OPEN' | 'CLOSED';");
    expect(text).toContain('export interface Top {\n  key: string;\n}');
    expect(text).toContain(
      [
        '/** One window. */',
        'export interface Window {',
        '  state: WindowState;',
        '  /** Per minute. */',
        '  counts: Array<number>;',
        '  by_region: Record<string, number>;',
        '  digest: Buffer;',
        '  top: null | Top;',
        '  ok: boolean;',
        '}',
      ].join('\n'),
    );
    expect(text.indexOf('interface Top')).toBeLessThan(text.indexOf('interface Window'));
    expect(text).toContain('export interface SchemaRecords {\n  Window: Window;\n}');
  });

  it('refuses a union avsc would wrap, naming the problem', () => {
    const schemas = schemasOf({
      type: 'record',
      name: 'Either',
      namespace: 'tributary',
      fields: [
        {
          name: 'value',
          type: [
            { type: 'record', name: 'A', fields: [] },
            { type: 'record', name: 'B', fields: [] },
          ],
        },
      ],
    });
    expect(() => renderRecordTypes(schemas)).toThrow(TributaryError);
    expect(() => renderRecordTypes(schemas)).toThrow(/union avsc wraps/);
  });
});
