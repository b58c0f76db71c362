// Store values in the changelog are Avro under the changelog's subject: code with a compatible newer
// schema restores what older code wrote (Avro resolution), an incompatible one is refused at start
// naming the field, and a restore keeps offset order while it fetches a writer schema it has not seen.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.ts';
import { AvroDecoder, parseSchema, peekSchemaId } from '../serde/index.ts';
import type { LoadedSchema } from '../serde/index.ts';
import { InMemorySchemaRegistry } from '../testing/in-memory-schema-registry.ts';
import type { KeyedStoreDeclaration } from './declarations.ts';
import type { PartitionStore } from './keyed-store.ts';
import { StateManager } from './state-manager.ts';
import type { ChangelogReader } from './state-manager.ts';
import { buildStoreCodecs } from './store-codecs.ts';

const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const changelogTopicFor = (store: string): string => `shop.${store}.changelog`;

function cartSchema(extraFields: object[] = []): LoadedSchema {
  const fields = [{ name: 'items', type: 'long' }, ...extraFields];
  return parseSchema(
    JSON.stringify({ type: 'record', name: 'Cart', namespace: 'test', fields }),
    'cart.avsc',
  );
}
const V1 = cartSchema();
const V2 = cartSchema([{ name: 'currency', type: 'string', default: 'EUR' }]);
const carts: KeyedStoreDeclaration<{ items: number; currency?: string }> = {
  kind: 'keyed',
  schema: 'Cart',
  localExpiry: false,
};

async function codecsOf(registry: InMemorySchemaRegistry, schema: LoadedSchema) {
  return buildStoreCodecs(
    'shop',
    { carts },
    { registry, changelogTopicFor, schemas: new Map([['Cart', schema]]) },
  );
}

/** What a copy running with `schema` writes for these carts: the changelog records of one batch. */
async function written(
  registry: InMemorySchemaRegistry,
  schema: LoadedSchema,
  values: Record<string, object>,
) {
  const state = new StateManager({
    declarations: { carts },
    changelogTopicFor,
    readChangelog: undefined,
    log,
    codecs: await codecsOf(registry, schema),
  });
  await state.sync([0]);
  const store = state.store('carts', 0) as PartitionStore<object>;
  for (const [key, value] of Object.entries(values)) store.set(key, value, 7);
  return state.changelogMessages().map((m) => ({ key: m.key as Buffer, value: m.value }));
}

async function restoredWith(
  registry: InMemorySchemaRegistry,
  schema: LoadedSchema,
  changelog: ReadonlyArray<{ key: Buffer; value: Buffer | null }>,
) {
  const reader: ChangelogReader = async (_topic, _partitions, onRecord) => {
    for (const { key, value } of changelog) onRecord(0, key, value);
    await Promise.resolve();
  };
  const state = new StateManager({
    declarations: { carts },
    changelogTopicFor,
    readChangelog: reader,
    log,
    codecs: await codecsOf(registry, schema),
  });
  await state.sync([0]);
  return Object.fromEntries((state.store('carts', 0) as PartitionStore<object>).entries());
}

describe('store changelog values (Avro under the changelog subject)', () => {
  it('are Confluent-framed Avro of the entry record registered under <changelog topic>-value', async () => {
    const registry = new InMemorySchemaRegistry();
    const [record] = await written(registry, V1, { alice: { items: 2 } });
    const latest = await registry.getVersion('shop.carts.changelog-value', 'latest');
    expect(record?.value?.[0]).toBe(0);
    expect(peekSchemaId(record?.value ?? Buffer.alloc(0))).toBe(latest.id);
    // Any Avro reader with the registry reads it, with no Tributary code.
    const decoder = AvroDecoder.forWriterSchema<object>(registry);
    await decoder.prepare([record?.value ?? null]);
    expect({ ...decoder.decode(record?.value ?? Buffer.alloc(0)) }).toMatchObject({ time: 7 });
  });

  it('written with schema v1 and restored by code with a compatible v2: upgraded by Avro resolution', async () => {
    const registry = new InMemorySchemaRegistry();
    const changelog = await written(registry, V1, { alice: { items: 2 }, bob: { items: 5 } });
    const restored = await restoredWith(registry, V2, changelog);
    expect(restored).toEqual({ alice: { items: 2, currency: 'EUR' }, bob: { items: 5, currency: 'EUR' } });
    expect(await registry.listVersions('shop.carts.changelog-value')).toEqual([1, 2]);
  });

  it('keeps offset order while it fetches a writer schema it has not seen (v1 and v2 records interleaved)', async () => {
    const registry = new InMemorySchemaRegistry();
    const first = await written(registry, V1, { alice: { items: 1 }, bob: { items: 1 } });
    const second = await written(registry, V2, { alice: { items: 2, currency: 'USD' } });
    const third = await written(registry, V1, { alice: { items: 3 } });
    const restored = await restoredWith(registry, V2, [...first, ...second, ...third]);
    expect(restored).toEqual({ alice: { items: 3, currency: 'EUR' }, bob: { items: 1, currency: 'EUR' } });
  });

  it('refuses, at start, a new schema that cannot read what the changelog holds, naming the field', async () => {
    const registry = new InMemorySchemaRegistry();
    await written(registry, V1, { alice: { items: 2 } });
    const breaking = cartSchema([{ name: 'currency', type: 'string' }]);
    await expect(codecsOf(registry, breaking)).rejects.toThrow(/shop\.carts\.changelog-value.*currency/s);
  });

  it('a store whose schema is not in schemas/ is a definition error naming the store', async () => {
    const basket = { ...carts, schema: 'Basket' };
    const building = buildStoreCodecs(
      'shop',
      { carts: basket },
      { registry: new InMemorySchemaRegistry(), changelogTopicFor },
    );
    await expect(building).rejects.toThrow(
      expect.objectContaining({
        code: 'TRIBUTARY_DEFINITION_INVALID',
        message: expect.stringContaining('store "carts" declares schema "Basket"') as unknown,
      }),
    );
  });
});
