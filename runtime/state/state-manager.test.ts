import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.ts';
import { parseSchema } from '../serde/index.ts';
import { InMemorySchemaRegistry } from '../testing/in-memory-schema-registry.ts';
import { StateManager } from './state-manager.ts';
import type { ChangelogReader, StateManagerOptions } from './state-manager.ts';
import type { KeyedStoreDeclaration } from './declarations.ts';
import { PartitionStore } from './keyed-store.ts';
import { buildStoreCodecs } from './store-codecs.ts';
import type { StoreCodecs } from './store-codecs.ts';

const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const changelogFor = (store: string): string => `p.${store}.changelog`;

/** The test stores' value: a note (a text, a count, a list). */
interface Note {
  text: string;
  n: number;
  list: number[];
}
const NOTE_SCHEMA = parseSchema(
  JSON.stringify({
    type: 'record',
    name: 'Note',
    namespace: 'test',
    fields: [
      { name: 'text', type: 'string' },
      { name: 'n', type: 'long' },
      { name: 'list', type: { type: 'array', items: 'long' } },
    ],
  }),
  'note.avsc',
);
const note = (text: string, n = 0): Note => ({ text, n, list: [] });
const notes = (options: Partial<KeyedStoreDeclaration<Note>> = {}): KeyedStoreDeclaration<Note> => ({
  kind: 'keyed',
  schema: 'Note',
  localExpiry: false,
  ...options,
});

async function codecsFor(declarations: StateManagerOptions['declarations']): Promise<StoreCodecs> {
  return buildStoreCodecs('test', declarations, {
    registry: new InMemorySchemaRegistry(),
    changelogTopicFor: changelogFor,
    schemas: new Map([['Note', NOTE_SCHEMA]]),
  });
}

/** A state manager of one keyed store of notes, `seen`, with real (Avro) changelog codecs. */
async function manager(
  options: { reader?: ChangelogReader; freezeValues?: boolean; seen?: KeyedStoreDeclaration<Note> } = {},
) {
  const declarations = { seen: options.seen ?? notes() };
  const codecs = await codecsFor(declarations);
  const state = new StateManager({
    declarations,
    changelogTopicFor: changelogFor,
    readChangelog: options.reader,
    log,
    codecs,
    freezeValues: options.freezeValues ?? false,
  });
  const codec = codecs.get('seen');
  if (codec === undefined) throw new TypeError('no codec for seen');
  /** A changelog value as the store writes it. */
  const entry = (value: Note, time: number): Buffer => codec.encode({ time, value });
  return { state, entry };
}

function keyed(state: StateManager, name: string, partition: number): PartitionStore<unknown> {
  const store = state.store(name, partition);
  if (!(store instanceof PartitionStore)) throw new TypeError(`${name} is not a keyed store`);
  return store;
}

describe('StateManager', () => {
  // Issue 12 bug B: the aggregate once read a window, added to it in place and set it back; the undo of
  // an aborted batch put back the changed object, and the retry counted the batch twice.
  it('with freezeValues (the test driver), a stored value changed in place throws instead of breaking undo', async () => {
    const { state } = await manager({ freezeValues: true });
    await state.sync([0]);
    const seen = keyed(state, 'seen', 0);
    seen.set('a', { text: 'a', n: 1, list: [1] });
    const stored = seen.get('a') as Note;
    expect(() => (stored.n = 2)).toThrow(TypeError);
    expect(() => stored.list.push(2)).toThrow(TypeError);
    seen.set('a', { ...stored, n: stored.n + 1 });
    state.rollback();
    expect(seen.get('a')).toBeUndefined();
  });

  it('turns a batch of writes into one changelog record per key with its final value', async () => {
    const { state, entry } = await manager();
    await state.sync([0, 3]);
    const seen = keyed(state, 'seen', 3);
    seen.set('a', note('one'), 100);
    seen.set('a', note('two'), 100);
    seen.set('b', note('five'), 200);
    seen.delete('b');
    const messages = state.changelogMessages();
    expect(messages.map((m) => [m.topic, m.partition, m.key?.toString(), m.value ?? null])).toEqual([
      ['p.seen.changelog', 3, 'a', entry(note('two'), 100)],
      ['p.seen.changelog', 3, 'b', null],
    ]);
    state.commit();
    expect(state.changelogMessages()).toEqual([]);
  });

  it('rolls back a rejected record to its savepoint and an aborted batch entirely', async () => {
    const { state } = await manager();
    await state.sync([0]);
    const seen = keyed(state, 'seen', 0);
    seen.set('kept', note('kept'));
    state.commit();
    seen.set('batch', note('batch'));
    const savepoint = state.savepoint();
    seen.set('rejected', note('rejected'));
    seen.delete('kept');
    state.rollbackTo(savepoint);
    expect([...seen.entries()].map(([k]) => k).sort()).toEqual(['batch', 'kept']);
    state.rollback();
    expect([...seen.entries()].map(([k]) => k)).toEqual(['kept']);
  });

  it('keeps one undo per key for the batch, however many kept records changed it, and still rolls back exactly', async () => {
    const { state, entry } = await manager();
    await state.sync([0]);
    const seen = keyed(state, 'seen', 0);
    seen.set('a', note('committed'));
    state.commit();
    // 100 kept records, each changing a and adding a key of its own.
    for (let n = 1; n <= 100; n++) {
      const savepoint = state.savepoint();
      seen.set('a', note('a', n), 5);
      seen.set('a', note('a twice', n), 5);
      seen.set(`own-${n}`, note('own', n));
      state.keep(savepoint);
    }
    // a once, and each record's own key once: not the 300 entries written.
    expect(state.savepoint()).toBe(101);
    // A rejected record after them rolls back to what the kept ones left.
    const savepoint = state.savepoint();
    seen.set('a', note('rejected'));
    seen.delete('own-7');
    state.rollbackTo(savepoint);
    expect((seen.get('a') as Note).text).toBe('a twice');
    expect(seen.get('own-7')).toBeDefined();
    // The changelog is the net change, as without compaction.
    const messages = state.changelogMessages();
    expect(messages.map((m) => m.key?.toString())).toEqual([
      'a',
      ...Array.from({ length: 100 }, (_, n) => `own-${n + 1}`),
    ]);
    expect(messages[0]?.value).toEqual(entry(note('a twice', 100), 5));
    // An aborted batch puts back the committed state.
    state.rollback();
    expect([...seen.entries()].map(([k, v]) => [k, (v as Note).text])).toEqual([['a', 'committed']]);
  });

  it('after a rollback into kept records, a key they had journaled is journaled afresh', async () => {
    const { state } = await manager();
    await state.sync([0]);
    const seen = keyed(state, 'seen', 0);
    seen.set('a', note('committed'));
    state.commit();
    let savepoint = state.savepoint();
    seen.set('a', note('one'));
    state.keep(savepoint);
    // Back to the batch's start (an aborted batch), then on with the same key.
    state.rollbackTo(0);
    savepoint = state.savepoint();
    seen.set('a', note('two'));
    state.keep(savepoint);
    savepoint = state.savepoint();
    seen.set('a', note('three'));
    state.keep(savepoint);
    expect(state.savepoint()).toBe(1);
    state.rollback();
    expect((seen.get('a') as Note).text).toBe('committed');
  });

  it('expires the oldest entries by time and journals the deletions', async () => {
    const { state } = await manager();
    await state.sync([0]);
    const seen = keyed(state, 'seen', 0);
    for (let t = 0; t < 10; t++) seen.set(`id${t}`, note('id', t), t * 1000);
    state.commit();
    expect(seen.expireBefore(4000)).toBe(4);
    expect(seen.has('id3')).toBe(false);
    expect(seen.has('id4')).toBe(true);
    expect(state.changelogMessages().every((m) => m.value === null)).toBe(true);
  });

  it('restores newly assigned partitions from the changelog and drops revoked ones', async () => {
    const changelog: Array<[number, string, Buffer | null]> = [];
    let reads = 0;
    const reader: ChangelogReader = (topic, partitions, onRecord) => {
      reads++;
      expect(topic).toBe('p.seen.changelog');
      for (const [p, k, v] of changelog) if (partitions.includes(p)) onRecord(p, Buffer.from(k), v);
      return Promise.resolve();
    };
    const { state, entry } = await manager({ reader });
    changelog.push(
      [1, 'x', entry(note('first'), 1)],
      [1, 'x', entry(note('second'), 2)],
      [1, 'gone', entry(note('gone'), 1)],
      [1, 'gone', null],
      [2, 'y', entry(note('other'), 3)],
    );
    expect(() => keyed(state, 'seen', 1)).toThrow('not restored');
    await state.sync([1]);
    expect(keyed(state, 'seen', 1).get('x')).toEqual(note('second'));
    expect(keyed(state, 'seen', 1).has('gone')).toBe(false);
    await state.sync([1]);
    expect(reads).toBe(1);
    await state.sync([2]);
    expect(keyed(state, 'seen', 2).get('y')).toEqual(note('other'));
    expect(() => keyed(state, 'seen', 1)).toThrow('not restored');
  });

  it('expires a local-expiry store without tombstones, still undoable, and caps it while restoring', async () => {
    const capped = notes({ localExpiry: true, maxEntries: () => 3 });
    const { state, entry } = await manager({ seen: capped });
    await state.sync([0]);
    const seen = keyed(state, 'seen', 0);
    for (let t = 0; t < 5; t++) seen.set(`id${t}`, note('id', t), t);
    state.commit();
    expect(seen.expireBefore(2)).toBe(2);
    expect(state.changelogMessages()).toEqual([]);
    state.rollback();
    expect(seen.has('id0')).toBe(true);

    const reader: ChangelogReader = (_topic, _partitions, onRecord) => {
      for (let t = 0; t < 10; t++) onRecord(0, Buffer.from(`id${t}`), entry(note('id', t), t));
      return Promise.resolve();
    };
    const { state: restored } = await manager({ seen: capped, reader });
    await restored.sync([0]);
    expect([...keyed(restored, 'seen', 0).entries()].map(([k]) => k)).toEqual(['id7', 'id8', 'id9']);
  });

  it('drops a revoked partition at once, so one assigned back with no batch between is restored afresh (finding 6)', async () => {
    const changelog: Array<[number, string, Buffer]> = [];
    const reader: ChangelogReader = (_topic, partitions, onRecord) => {
      for (const [p, k, v] of changelog) if (partitions.includes(p)) onRecord(p, Buffer.from(k), v);
      return Promise.resolve();
    };
    const { state, entry } = await manager({ reader });
    changelog.push([1, 'x', entry(note('ours'), 1)]);
    const listener = state.rebalanceListener('in');
    await state.sync([1]);
    expect(keyed(state, 'seen', 1).get('x')).toEqual(note('ours'));
    // Revoked, then given back before this copy's next batch: sync() only ever sees [1].
    listener.onRevoked?.([{ topic: 'in', partition: 1 }]);
    expect(() => keyed(state, 'seen', 1)).toThrow('not restored');
    changelog.push([1, 'x', entry(note('written by the other copy meanwhile'), 2)]);
    listener.onAssigned?.([{ topic: 'in', partition: 1 }]);
    await state.sync([1]);
    expect(keyed(state, 'seen', 1).get('x')).toEqual(note('written by the other copy meanwhile'));
  });

  it('does not install a restore that a revocation overtook', async () => {
    let release: () => void = () => undefined;
    const stale: Buffer[] = [];
    const reader: ChangelogReader = (_topic, _partitions, onRecord) => {
      for (const value of stale) onRecord(1, Buffer.from('x'), value);
      return new Promise((resolve) => (release = resolve));
    };
    const { state, entry } = await manager({ reader });
    stale.push(entry(note('stale'), 1));
    const restoring = state.sync([1]);
    state.rebalanceListener('in').onRevoked?.([{ topic: 'in', partition: 1 }]);
    release();
    await restoring;
    expect(() => keyed(state, 'seen', 1)).toThrow('not restored');
  });
});
