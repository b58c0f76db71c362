// Type-level tests of `avro(name)`: the value type comes from the record generated for that schema, so a
// handler that emits what the schema does not hold fails the typecheck. tsc checks this file (the
// `typecheck` step); an `@ts-expect-error` that no longer finds its error fails it as well.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { DeadLetter, RequestEvent } from '../../contracts/index.ts';
import { avro, bytes, defineProcessor } from './definition.ts';
import type { ValueOf } from './definition.ts';

const event: RequestEvent = {
  event_id: 'e-1',
  ts: 1,
  service: 'checkout',
  endpoint: '/api/orders/{id}',
  method: 'GET',
  status: 200,
  latency_ms: 1.5,
  bytes_out: 2,
  customer_id: 'c-1',
  region: 'eu-west-1',
  ingested_at: 3,
};

const relay = defineProcessor({
  name: 'relay',
  description: 'type-level test processor',
  input: { topic: 'in', value: avro('RequestEvent') },
  outputs: { copied: { topic: 'out', value: avro('RequestEvent') }, raw: { topic: 'raw', value: bytes() } },
  config: {},
  handle(record, ctx) {
    expectTypeOf(record.value).toEqualTypeOf<RequestEvent>();
    ctx.emit('copied', record.value.event_id, record.value);
    ctx.emit('copied', null, {
      ...event,
      // @ts-expect-error -- region_code is not a field of RequestEvent
      region_code: 'eu',
    });
    // @ts-expect-error -- a RequestEvent needs every field of the schema
    ctx.emit('copied', null, { event_id: 'e-2' });
    // @ts-expect-error -- status is an Avro int: a number, not a string
    ctx.emit('copied', null, { ...event, status: '200' });
    // @ts-expect-error -- `raw` is declared as bytes, not as a RequestEvent
    ctx.emit('raw', null, event);
  },
});

// Outcomes are a closed declared set: a typo, an undeclared reason or a missing one fails the typecheck.
defineProcessor({
  name: 'counter',
  description: 'type-level test processor',
  input: { topic: 'in', value: bytes() },
  outputs: {},
  outcomes: { dropped: ['skip'] },
  config: {},
  handle(_record, ctx) {
    ctx.count('dropped', 'skip');
    // @ts-expect-error -- "droped" is not a declared outcome
    ctx.count('droped', 'skip');
    // @ts-expect-error -- "later" is not a declared reason of "dropped"
    ctx.count('dropped', 'later');
  },
});
defineProcessor({
  name: 'silent',
  description: 'type-level test processor',
  input: { topic: 'in', value: bytes() },
  outputs: {},
  outcomes: ['duplicate'],
  config: {},
  handle(_record, ctx) {
    ctx.count('duplicate');
    // @ts-expect-error -- "dropped" is not declared
    ctx.count('dropped');
    // @ts-expect-error -- a store this processor does not declare
    ctx.store('seen');
  },
});

describe('avro(name): the value type of a topic is the record generated from its schema', () => {
  it('infers each record type from the schema name', () => {
    expectTypeOf<ValueOf<ReturnType<typeof avro<'RequestEvent'>>>>().toEqualTypeOf<RequestEvent>();
    expectTypeOf<ValueOf<ReturnType<typeof avro<'DeadLetter'>>>>().toEqualTypeOf<DeadLetter>();
    expect(avro('DeadLetter')).toEqual({ kind: 'avro', schema: 'DeadLetter' });
  });

  it('refuses a schema name that schemas/ does not define', () => {
    // @ts-expect-error -- there is no schemas/*.avsc with a record NoSuchRecord
    const codec = avro('NoSuchRecord');
    expect(codec.kind).toBe('avro');
    expect(relay.outputs.copied.value).toEqual({ kind: 'avro', schema: 'RequestEvent' });
  });
});
