// The SchemaRegistry contract as tests, run against InMemorySchemaRegistry (unit) and against the real
// registry through HttpSchemaRegistry (integration): the double must behave like the real thing.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SerdeError, TributaryError } from '../errors.ts';
import type { SchemaRegistry } from '../serde/registry.ts';

export function recordSchemaJson(name: string, fields: ReadonlyArray<Record<string, unknown>>): string {
  return JSON.stringify({ type: 'record', name, namespace: 'tributary', fields });
}

export function uniqueSubject(label: string): string {
  return `t-${label}-${randomBytes(4).toString('hex')}-value`;
}

function codeOf(error: unknown): string | undefined {
  return error instanceof TributaryError ? error.code : undefined;
}

async function errorOf(promise: Promise<unknown>): Promise<TributaryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TributaryError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/**
 * Defines the contract tests. `cleanup` subjects are deleted by the caller's afterAll (real registry).
 */
export function describeSchemaRegistryContract(
  name: string,
  create: () => SchemaRegistry,
  created: string[] = [],
): void {
  const subject = (label: string): string => {
    const s = uniqueSubject(label);
    created.push(s);
    return s;
  };
  const v1 = recordSchemaJson('Contract', [{ name: 'a', type: 'int' }]);
  const v2 = recordSchemaJson('Contract', [
    { name: 'a', type: 'int' },
    { name: 'b', type: 'string', default: 'x' },
  ]);
  const broken = recordSchemaJson('Contract', [{ name: 'a', type: 'string' }]);

  describe(`SchemaRegistry contract: ${name}`, () => {
    it('registers, finds by id, lists versions and looks an existing schema up', async () => {
      const registry = create();
      const s = subject('contract');
      expect(await registry.listVersions(s)).toEqual([]);
      expect(await registry.lookup(s, v1)).toBeUndefined();
      const { id } = await registry.register(s, v1);
      expect(await registry.register(s, v1)).toEqual({ id });
      expect(JSON.parse(await registry.getSchemaById(id))).toEqual(JSON.parse(v1));
      expect(await registry.listVersions(s)).toEqual([1]);
      expect(await registry.lookup(s, v1)).toMatchObject({ subject: s, version: 1, id });
      expect(await registry.lookup(s, v2)).toBeUndefined();
      expect(await registry.getVersion(s, 'latest')).toMatchObject({ version: 1, id });
    });

    it('gives the same schema the same id under two subjects', async () => {
      const registry = create();
      const schema = recordSchemaJson('Shared', [
        { name: `f_${randomBytes(3).toString('hex')}`, type: 'long' },
      ]);
      const first = await registry.register(subject('shared-a'), schema);
      const second = await registry.register(subject('shared-b'), schema);
      expect(second.id).toBe(first.id);
    });

    it('tests compatibility per version and refuses an incompatible registration with a 409', async () => {
      const registry = create();
      const s = subject('compat');
      expect(await registry.testCompatibility(s, broken, 'latest')).toMatchObject({ compatible: true });
      await registry.setCompatibility(s, 'BACKWARD_TRANSITIVE');
      await registry.register(s, v1);
      expect((await registry.testCompatibility(s, v2, 1)).compatible).toBe(true);
      expect((await registry.testCompatibility(s, broken, 'latest')).compatible).toBe(false);
      const refused = await errorOf(registry.register(s, broken));
      expect(refused.code).toBe('TRIBUTARY_REGISTRY_REQUEST_FAILED');
      expect(refused.context).toMatchObject({ status: 409 });
      expect((await registry.register(s, v2)).id).toBeGreaterThan(0);
      expect(await registry.listVersions(s)).toEqual([1, 2]);
    });

    it('answers an unknown id with UNKNOWN_SCHEMA_ID and an unknown version with REQUEST_FAILED 404', async () => {
      const registry = create();
      const unknown = await errorOf(registry.getSchemaById(2_000_000_000));
      expect(unknown).toBeInstanceOf(SerdeError);
      expect(unknown.code).toBe('TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID');
      const s = subject('missing');
      const noSubject = await errorOf(registry.getVersion(s, 1));
      expect(noSubject.code).toBe('TRIBUTARY_REGISTRY_REQUEST_FAILED');
      expect(noSubject.context).toMatchObject({ status: 404, errorCode: 40401 });
      await registry.register(s, v1);
      const noVersion = await errorOf(registry.getVersion(s, 7));
      expect(noVersion.context).toMatchObject({ status: 404, errorCode: 40402 });
    });

    it('refuses a schema that does not parse with TRIBUTARY_SCHEMA_INVALID', async () => {
      const registry = create();
      const error = await errorOf(registry.register(subject('invalid'), '{"type": "record", "name": "Nope"'));
      expect(codeOf(error)).toBe('TRIBUTARY_SCHEMA_INVALID');
    });

    it('deletes a subject', async () => {
      const registry = create();
      const s = subject('delete');
      await registry.register(s, v1);
      expect(await registry.deleteSubject(s, { permanent: true })).toEqual([1]);
      expect(await registry.listVersions(s)).toEqual([]);
      expect(await registry.deleteSubject(s)).toEqual([]);
    });
  });
}
