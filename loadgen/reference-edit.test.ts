// `ref set` refuses a bad record before it contacts anything, naming what is wrong.
import { describe, expect, it } from 'vitest';
import { InMemorySchemaRegistry } from '../runtime/testing/in-memory-schema-registry.ts';
import { editReference } from './reference-edit.ts';

const base = { brokers: '127.0.0.1:1', registry: new InMemorySchemaRegistry(), topicPrefix: '' };
const service = {
  service: 'checkout',
  team: 'payments',
  tier: 1,
  latency_slo_ms: 250,
  availability_slo: 0.999,
};

describe('editReference', () => {
  it('names a field of the wrong type', async () => {
    const edit = { set: { ...service, tier: 'high' } };
    await expect(editReference({ ...base, table: 'services', edit })).rejects.toThrow(
      /field "tier" is not a valid int/,
    );
  });

  it('names unknown fields and lists the known ones', async () => {
    const edit = { set: { ...service, owner: 'x' } };
    await expect(editReference({ ...base, table: 'services', edit })).rejects.toThrow(
      /unknown field\(s\) owner; the fields are service, team, tier/,
    );
  });

  it('refuses a record without its key', async () => {
    const edit = { set: { plan: 'pro', account_region: 'eu-west-1' } };
    await expect(editReference({ ...base, table: 'customers', edit })).rejects.toThrow(/customer_id/);
  });
});
