import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../errors.ts';
import { runInMemory } from '../../testing/run-in-memory.ts';
import { avro, bytes, defineProcessor } from './definition.ts';
import type { AnyProcessorDefinition } from './definition.ts';
import { checkDefinition, declaredOutcomes } from './definition-checks.ts';

const base = {
  description: 'test processor',
  input: { topic: 'in', value: bytes() },
  outputs: { out: { topic: 'out', value: bytes() } },
  deadLetter: { topic: 'in.dlq' },
  config: {},
};

const definitionError = (code: string): unknown => expect.objectContaining({ code });

describe('a processor declaration mistake is a definition error, not TRIBUTARY_KAFKA_FATAL', () => {
  it('lists declared outcomes (and reasons) as the closed set of metric labels', () => {
    const listed = defineProcessor({ ...base, name: 'a', outcomes: ['duplicate'], handle: () => undefined });
    const withReasons = defineProcessor({
      ...base,
      name: 'b',
      outcomes: { dropped: ['skip', 'test_traffic'] },
      handle: () => undefined,
    });
    expect(declaredOutcomes(listed)).toEqual([{ outcome: 'duplicate', reason: '' }]);
    expect(declaredOutcomes(withReasons)).toEqual([
      { outcome: 'dropped', reason: 'skip' },
      { outcome: 'dropped', reason: 'test_traffic' },
    ]);
  });

  it('refuses at start outcomes that clash with the runtime or are no label, and bad store names', () => {
    const bad = {
      ...base,
      name: 'bad',
      outcomes: { emitted: [], 'Not Snake': ['also bad'] },
      stores: { 'has.dot': { kind: 'keyed', localExpiry: false } },
      handle: () => undefined,
    } as unknown as AnyProcessorDefinition;
    expect(() => checkDefinition(bad, { tablesSupported: true })).toThrow(
      'processor bad is not declared correctly: outcome "Not Snake" is not snake_case; ' +
        'reason "also bad" of outcome "Not Snake" is not snake_case; store "has.dot" cannot be part of a ' +
        'changelog topic name (letters, digits, _ and -)',
    );
    const clash = {
      ...base,
      name: 'c',
      outcomes: ['emitted'],
      handle: () => undefined,
    } as AnyProcessorDefinition;
    expect(() => checkDefinition(clash, { tablesSupported: true })).toThrow(
      'outcome "emitted" is one the runtime records itself',
    );
  });

  it('refuses reference tables where the host does not serve them yet', () => {
    const withTable = defineProcessor({
      ...base,
      name: 'tables',
      tables: { services: { topic: 'ref.services', value: avro('Service') } },
      handle: () => undefined,
    });
    expect(() => checkDefinition(withTable, { tablesSupported: false })).toThrow(
      definitionError('TRIBUTARY_DEFINITION_INVALID'),
    );
    expect(() => checkDefinition(withTable, { tablesSupported: true })).not.toThrow();
  });

  it('an emit to an undeclared output, an undeclared store or outcome fails with TRIBUTARY_DEFINITION_INVALID', async () => {
    // Only a cast gets these past the typecheck; the runtime still names the mistake.
    const sloppy = defineProcessor({
      ...base,
      name: 'sloppy',
      handle(record, ctx) {
        const loose = ctx as unknown as {
          emit(o: string, k: null, v: Buffer): void;
          store(n: string): unknown;
          count(o: string): void;
        };
        const what = record.value.toString();
        if (what === 'emit') loose.emit('nowhere', null, record.value);
        if (what === 'store') loose.store('missing');
        if (what === 'count') loose.count('typo');
      },
    });
    for (const what of ['emit', 'store', 'count'])
      await expect(runInMemory(sloppy, [{ value: what }])).rejects.toThrow(
        definitionError('TRIBUTARY_DEFINITION_INVALID'),
      );
  });

  it('drops what a rejected record counted, like its emits: it becomes exactly one dead letter', async () => {
    const countsThenRejects = defineProcessor({
      ...base,
      name: 'counts-then-rejects',
      outcomes: ['seen'],
      handle(record, ctx) {
        ctx.count('seen');
        if (record.value.toString() === 'bad') throw new ValidationError('bad', 'a bad record');
      },
    });
    const run = await runInMemory(countsThenRejects, [{ value: 'ok' }, { value: 'bad' }]);
    expect(run.deadLetters.map((d) => d.reason)).toEqual(['bad']);
    expect(run.counted.get('seen')).toBe(1);
  });
});
