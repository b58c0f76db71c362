// Registration with BACKWARD_TRANSITIVE checks, against the in-memory registry.
import { describe, expect, it } from 'vitest';
import { SchemaIncompatibleError, TributaryError } from '../errors.ts';
import { InMemorySchemaRegistry } from '../testing/in-memory-schema-registry.ts';
import { registerSchemas } from './register-schemas.ts';
import type { SerdeLogger } from './register-schemas.ts';
import { valueSubject } from './registry.ts';
import type { SchemaRegistry } from './registry.ts';
import { parseSchema } from './schema-loader.ts';
import type { LoadedSchema } from './schema-loader.ts';

const base = [
  { name: 'event_id', type: 'string' },
  { name: 'status', type: 'int' },
];

function event(fields: ReadonlyArray<Record<string, unknown>>): LoadedSchema {
  return parseSchema(
    JSON.stringify({ type: 'record', name: 'Event', namespace: 'tributary', fields }),
    'event.avsc',
  );
}

async function incompatibility(
  registry: SchemaRegistry,
  subject: string,
  schema: LoadedSchema,
): Promise<SchemaIncompatibleError> {
  try {
    await registerSchemas(registry, [{ subject, schema }]);
  } catch (error) {
    if (error instanceof SchemaIncompatibleError) return error;
    throw error;
  }
  throw new Error('expected SchemaIncompatibleError');
}

describe('registerSchemas', () => {
  it('names subjects after the topic (TopicNameStrategy)', () => {
    expect(valueSubject('requests.valid')).toBe('requests.valid-value');
  });

  it('registers a new subject as version 1 with BACKWARD_TRANSITIVE, and reuses the id when nothing changed', async () => {
    const registry = new InMemorySchemaRegistry();
    const logged: string[] = [];
    const log: SerdeLogger = { info: (_obj, msg) => void logged.push(msg) };
    const subject = valueSubject('events');
    const first = await registerSchemas(registry, [{ subject, schema: event(base) }], log);
    const again = await registerSchemas(registry, [{ subject, schema: event(base) }], log);
    expect(again.get(subject)).toBe(first.get(subject));
    expect(await registry.listVersions(subject)).toEqual([1]);
    expect(registry.callCount('register')).toBe(1);
    expect(logged).toEqual(['schema registered', 'schema already registered']);
    await expect(registry.testCompatibility(subject, event([base[0] ?? {}]).json, 1)).resolves.toMatchObject({
      compatible: true,
    });
  });

  it('registers a compatible change (a new field with a default) as version 2', async () => {
    const registry = new InMemorySchemaRegistry();
    const subject = valueSubject('events');
    await registerSchemas(registry, [{ subject, schema: event(base) }]);
    const ids = await registerSchemas(registry, [
      { subject, schema: event([...base, { name: 'region', type: 'string', default: '' }]) },
    ]);
    expect(await registry.getVersion(subject, 2)).toMatchObject({ id: ids.get(subject) });
  });

  it('refuses a field added without a default, naming the subject, the version and the field', async () => {
    const registry = new InMemorySchemaRegistry();
    const subject = valueSubject('events');
    await registerSchemas(registry, [{ subject, schema: event(base) }]);
    const error = await incompatibility(
      registry,
      subject,
      event([...base, { name: 'region', type: 'string' }]),
    );
    expect(error.code).toBe('TRIBUTARY_SCHEMA_INCOMPATIBLE');
    expect(error.subject).toBe(subject);
    expect(error.againstVersions).toEqual([1]);
    expect(error.problems).toEqual([
      'field "region" was added without a default (version 1 has no such field)',
    ]);
    expect(error.message).toContain('events-value');
    expect(await registry.listVersions(subject)).toEqual([1]);
  });

  it('refuses a changed field type, naming the old and new types', async () => {
    const registry = new InMemorySchemaRegistry();
    const subject = valueSubject('events');
    await registerSchemas(registry, [{ subject, schema: event(base) }]);
    const error = await incompatibility(
      registry,
      subject,
      event([
        { name: 'event_id', type: 'string' },
        { name: 'status', type: 'string' },
      ]),
    );
    expect(error.problems).toEqual(['field "status" changed type from int to string']);
  });

  it('checks against every version, not only the latest (transitive)', async () => {
    const registry = new InMemorySchemaRegistry();
    const subject = valueSubject('events');
    await registerSchemas(registry, [{ subject, schema: event(base) }]);
    await registerSchemas(registry, [
      { subject, schema: event([...base, { name: 'region', type: 'string', default: 'eu' }]) },
    ]);
    // Dropping the default is fine against version 2 (it has the field) but not against version 1.
    const error = await incompatibility(
      registry,
      subject,
      event([...base, { name: 'region', type: 'string' }]),
    );
    expect(error.againstVersions).toEqual([1]);
    expect(error.problems).toEqual([
      'field "region" was added without a default (version 1 has no such field)',
    ]);
  });

  it('names nested fields and widened unions', async () => {
    const registry = new InMemorySchemaRegistry();
    const subject = valueSubject('nested');
    const inner = (type: unknown) => [
      { name: 'client', type: { type: 'record', name: 'Client', fields: [{ name: 'port', type }] } },
    ];
    await registerSchemas(registry, [{ subject, schema: event(inner(['null', 'long'])) }]);
    const error = await incompatibility(registry, subject, event(inner('int')));
    expect(error.problems).toEqual(['field "client.port" changed type from null | long to int']);
  });

  it('refuses when the registry says incompatible even if the local check does not', async () => {
    const registry = new InMemorySchemaRegistry();
    const subject = valueSubject('strict');
    await registerSchemas(registry, [{ subject, schema: event(base) }]);
    registry.testCompatibility = () => Promise.resolve({ compatible: false, messages: [] });
    const error = await incompatibility(
      registry,
      subject,
      event([...base, { name: 'x', type: 'int', default: 0 }]),
    );
    expect(error.problems).toEqual(['the registry reports version 1 incompatible (no detail given)']);
  });

  it('refuses one subject bound to two different schemas', async () => {
    const subject = valueSubject('twice');
    const both = registerSchemas(new InMemorySchemaRegistry(), [
      { subject, schema: event(base) },
      { subject, schema: event([...base, { name: 'y', type: 'int', default: 0 }]) },
    ]);
    await expect(both).rejects.toBeInstanceOf(TributaryError);
    await expect(both).rejects.toMatchObject({ code: 'TRIBUTARY_SCHEMA_INVALID' });
  });

  it('lets registry unavailability through as retryable', async () => {
    const registry = new InMemorySchemaRegistry();
    registry.unavailable = true;
    await expect(
      registerSchemas(registry, [{ subject: 's-value', schema: event(base) }]),
    ).rejects.toMatchObject({
      code: 'TRIBUTARY_REGISTRY_UNAVAILABLE',
      retryable: true,
    });
  });
});
