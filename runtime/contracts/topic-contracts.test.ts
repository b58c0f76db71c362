import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.ts';
import { loadSchemas } from '../serde/schema-loader.ts';
import { avro, bytes, defineProcessor } from '../app/processor/definition.ts';
import { defineSink } from '../app/sink/sink-definition.ts';
import { mergeContracts, processorContracts, sinkContracts } from './topic-contracts.ts';

const schemas = loadSchemas();

const enrich = defineProcessor({
  name: 'enrich',
  description: 'test processor',
  input: { topic: 'requests.valid', value: avro('RequestEvent') },
  outputs: {
    copied: { topic: 'requests.copied', value: avro('RequestEvent') },
    raw: { topic: 'raw', value: bytes() },
  },
  deadLetter: { topic: 'requests.dlq' },
  config: {},
  handle() {},
});

const sink = defineSink({
  name: 'store-sink',
  description: 'test sink',
  bindings: [
    { topic: 'requests.copied', value: avro('RequestEvent'), target: 'requests' },
    { topic: 'requests.dlq', value: avro('DeadLetter'), target: 'dead_letters', deadLetter: 'sink.dlq' },
  ],
  deadLetter: 'requests.dlq',
  config: {},
  open: () => Promise.reject(new TributaryError('TRIBUTARY_SINK_UNAVAILABLE', 'never opened')),
});

const summary = (list: ReturnType<typeof mergeContracts>) =>
  list.map((c) => [c.subject, c.schema.name, c.usedBy.join(', ')]);

describe('topic contracts', () => {
  it('lists the Avro subjects a processor reads and writes, dead letters included, bytes topics not', () => {
    expect(summary(processorContracts(enrich, 'p.', schemas))).toEqual([
      ['p.requests.valid-value', 'RequestEvent', 'enrich reads'],
      ['p.requests.copied-value', 'RequestEvent', 'enrich writes'],
      ['p.requests.dlq-value', 'DeadLetter', 'enrich writes'],
    ]);
  });

  it("lists a sink's bound topics and their dead-letter topics; merges users per subject", () => {
    const merged = mergeContracts([
      ...processorContracts(enrich, '', schemas),
      ...sinkContracts(sink, '', schemas),
    ]);
    expect(summary(merged)).toEqual([
      ['requests.valid-value', 'RequestEvent', 'enrich reads'],
      ['requests.copied-value', 'RequestEvent', 'enrich writes, store-sink reads'],
      ['requests.dlq-value', 'DeadLetter', 'enrich writes, store-sink writes, store-sink reads'],
      ['sink.dlq-value', 'DeadLetter', 'store-sink writes'],
    ]);
  });

  it('refuses one topic declared with two different records, naming who declares what', () => {
    const clash = defineProcessor({
      name: 'clash',
      description: 'writes Service records to a dead-letter topic',
      input: { topic: 'raw', value: bytes() },
      outputs: { dead: { topic: 'requests.dlq', value: avro('Service') } },
      config: {},
      handle() {},
    });
    const declared = [...processorContracts(enrich, '', schemas), ...processorContracts(clash, '', schemas)];
    expect(() => mergeContracts(declared)).toThrow(
      'topic requests.dlq: enrich writes declare DeadLetter but clash writes declare Service',
    );
  });

  it('refuses a schema name that schemas/ does not hold', () => {
    const partial = new Map([...schemas].filter(([name]) => name !== 'DeadLetter'));
    expect(() => processorContracts(enrich, '', partial)).toThrow(/enrich declares schema "DeadLetter"/);
  });
});
