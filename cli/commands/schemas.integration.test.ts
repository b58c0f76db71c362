// `tributary schemas check` as a process against the real registry (Apicurio's Confluent API): the
// pipeline's subjects registered under a random prefix, then a compatible and a breaking edit of
// schemas/request-event.avsc checked from a copy of the schemas folder.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  HttpSchemaRegistry,
  SCHEMAS_DIR,
  loadSchemas,
  parseSchema,
  registerSchemas,
} from '../../runtime/serde/index.ts';
import type { Contract } from '../../runtime/contracts/index.ts';
import { uniquePrefix } from '../../runtime/testing/kafka-test-kit.ts';
import { deployContracts } from './schemas.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const registryUrl = inject('registryUrl');
const registry = new HttpSchemaRegistry(registryUrl);
const prefix = uniquePrefix('schemas-check');
const valid = `${prefix}requests.valid-value`;
const dirs: string[] = [];
let contracts: Contract[] = [];

interface Field {
  name: string;
  type: unknown;
  default?: unknown;
}

/** A copy of schemas/ whose RequestEvent (or the record in `file`) has its fields edited. */
function schemasWith(edit: (fields: Field[]) => Field[], file = 'request-event.avsc'): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-schemas-'));
  dirs.push(dir);
  for (const file of readdirSync(SCHEMAS_DIR)) copyFileSync(join(SCHEMAS_DIR, file), join(dir, file));
  const path = join(dir, file);
  const schema = JSON.parse(readFileSync(path, 'utf8')) as { fields: Field[] };
  writeFileSync(path, JSON.stringify({ ...schema, fields: edit(schema.fields) }));
  return dir;
}

function runCheck(schemasDir: string): Promise<{ code: number | null; out: string }> {
  const args = ['schemas', 'check', '--registry-url', registryUrl, '--topic-prefix', prefix];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', ...args, '--schemas-dir', schemasDir],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

/** The table row of a subject (cli-table3 draws one line per row when no cell wraps). */
function rowOf(out: string, subject: string): string {
  return out.split('\n').find((line) => line.includes(` ${subject} `)) ?? '';
}

beforeAll(async () => {
  contracts = await deployContracts(prefix, loadSchemas());
  // Everything registered but ref.customers (so one subject is new), and RequestEvent given a v2 that
  // added `zone` with a default: a reader without that default can read v2 but not v1.
  await registerSchemas(
    registry,
    contracts.filter((c) => c.schema.name !== 'Customer'),
  );
  const event = loadSchemas().get('RequestEvent');
  const v2 = JSON.parse(event?.json ?? '{}') as { fields: Field[] };
  v2.fields.push({ name: 'zone', type: 'string', default: 'unknown' });
  await registerSchemas(registry, [{ subject: valid, schema: parseSchema(JSON.stringify(v2), 'v2.avsc') }]);
});

afterAll(async () => {
  for (const { subject } of contracts) await registry.deleteSubject(subject, { permanent: true });
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('tributary schemas check against the real registry', () => {
  it('passes a compatible change (a new field with a default) and says so per subject', async () => {
    const dir = schemasWith((fields) => [
      ...fields,
      { name: 'trace_id', type: ['null', 'string'], default: null },
    ]);
    const { code, out } = await runCheck(dir);
    expect(code, out).toBe(0);
    // The users cell lists every process on the subject (ingest writes it, enrich reads it), a line each.
    expect(rowOf(out, valid)).toMatch(/tributary\.RequestEvent .*latest v2 .* compatible /);
    expect(out).toContain('ingest writes');
    expect(rowOf(out, `${prefix}requests.dlq-value`)).toContain(' registered ');
    expect(rowOf(out, `${prefix}ref.customers-value`)).toContain(' new subject ');
    expect(out).toContain('0 incompatible');
    expect(out).not.toContain('\x1b['); // piped: no colour
    // State stores are contracts too: their changelog subjects hold the entry records.
    expect(rowOf(out, `${prefix}aggregate.windows.changelog-value`)).toMatch(
      /tributary\.state\.WindowStatsWindowEntry .* registered /,
    );
    expect(out).toContain('aggregate state');
  });

  it("reports a store schema change that could not restore the changelog's entries, naming the field", async () => {
    const dir = schemasWith(
      (fields) => [...fields, { name: 'p999_ms', type: 'double' }],
      'window-stats.avsc',
    );
    const { code, out } = await runCheck(dir);
    expect(code, out).toBe(1);
    for (const store of ['windows', 'corrections'])
      expect(rowOf(out, `${prefix}aggregate.${store}.changelog-value`)).toContain(' INCOMPATIBLE ');
    expect(out).toContain('field "value.p999_ms" was added without a default');
    expect(out).toContain('2 incompatible');
    expect(rowOf(out, valid)).toContain(' registered ');
  });

  it('reports a breaking change with the offending fields and the versions they break, exit 1', async () => {
    const dir = schemasWith((fields) => [
      ...fields.map((field) => (field.name === 'status' ? { ...field, type: 'string' } : field)),
      { name: 'zone', type: 'string' },
    ]);
    const { code, out } = await runCheck(dir);
    expect(code, out).toBe(1);
    expect(rowOf(out, valid)).toContain(' INCOMPATIBLE ');
    expect(out).toContain('field "status" changed type from int to string');
    expect(out).toContain('field "zone" was added without a default (version 1 has no such field)');
    expect(out).toContain('1 incompatible');
    expect(rowOf(out, `${prefix}requests.dlq-value`)).toContain(' registered ');
    // Read-only: the check registered nothing.
    expect(await registry.listVersions(valid)).toEqual([1, 2]);
    expect(await registry.listVersions(`${prefix}ref.customers-value`)).toEqual([]);
  });
});
