import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.ts';
import { StateManager } from './state-manager.ts';
import type { ChangelogReader } from './state-manager.ts';
import { keyedStore } from './declarations.ts';
import { PartitionStore } from './keyed-store.ts';

const log = createLogger({ name: 'test', level: 'silent', pretty: false });
const changelogFor = (store: string): string => `p.${store}.changelog`;

function keyed(state: StateManager, name: string, partition: number): PartitionStore<unknown> {
  const store = state.store(name, partition);
  if (!(store instanceof PartitionStore)) throw new TypeError(`${name} is not a keyed store`);
  return store;
}

describe('StateManager', () => {
  // Issue 12 bug B: the aggregate once read a window, added to it in place and set it back; the undo of
  // an aborted batch put back the changed object, and the retry counted the batch twice.
  it('with freezeValues (the test driver), a stored value changed in place throws instead of breaking undo', async () => {
    const state = new StateManager({ seen: keyedStore() }, changelogFor, undefined, log, {}, true);
    await state.sync([0]);
    const seen = keyed(state, 'seen', 0);
    seen.set('a', { count: 1, nested: { list: [1] } });
    const stored = seen.get('a') as { count: number; nested: { list: number[] } };
    expect(() => (stored.count = 2)).toThrow(TypeError);
    expect(() => stored.nested.list.push(2)).toThrow(TypeError);
    seen.set('a', { ...stored, count: stored.count + 1 });
    state.rollback();
    expect(seen.get('a')).toBeUndefined();
  });

  it('turns a batch of writes into one changelog record per key with its final value', async () => {
    const state = new StateManager({ seen: keyedStore() }, changelogFor, undefined, log);
    await state.sync([0, 3]);
    const seen = keyed(state, 'seen', 3);
    seen.set('a', 1, 100);
    seen.set('a', 2, 100);
    seen.set('b', 5, 200);
    seen.delete('b');
    const messages = state.changelogMessages();
    expect(
      messages.map((m) => [m.topic, m.partition, m.key?.toString(), m.value?.toString() ?? null]),
    ).toEqual([
      ['p.seen.changelog', 3, 'a', '{"v":2,"t":100}'],
      ['p.seen.changelog', 3, 'b', null],
    ]);
    state.commit();
    expect(state.changelogMessages()).toEqual([]);
  });

  it('rolls back a rejected record to its savepoint and an aborted batch entirely', async () => {
    const state = new StateManager({ seen: keyedStore() }, changelogFor, undefined, log);
    await state.sync([0]);
    const seen = keyed(state, 'seen', 0);
    seen.set('kept', 1);
    state.commit();
    seen.set('batch', 1);
    const savepoint = state.savepoint();
    seen.set('rejected', 1);
    seen.delete('kept');
    state.rollbackTo(savepoint);
    expect([...seen.entries()].map(([k]) => k).sort()).toEqual(['batch', 'kept']);
    state.rollback();
    expect([...seen.entries()].map(([k]) => k)).toEqual(['kept']);
  });

  it('expires the oldest entries by time and journals the deletions', async () => {
    const state = new StateManager({ seen: keyedStore() }, changelogFor, undefined, log);
    await state.sync([0]);
    const seen = keyed(state, 'seen', 0);
    for (let t = 0; t < 10; t++) seen.set(`id${t}`, t, t * 1000);
    state.commit();
    expect(seen.expireBefore(4000)).toBe(4);
    expect(seen.has('id3')).toBe(false);
    expect(seen.has('id4')).toBe(true);
    expect(state.changelogMessages().every((m) => m.value === null)).toBe(true);
  });

  it('restores newly assigned partitions from the changelog and drops revoked ones', async () => {
    const changelog: Array<[number, string, string | null]> = [
      [1, 'x', '{"v":"first","t":1}'],
      [1, 'x', '{"v":"second","t":2}'],
      [1, 'gone', '{"v":1,"t":1}'],
      [1, 'gone', null],
      [2, 'y', '{"v":"other","t":3}'],
    ];
    let reads = 0;
    const reader: ChangelogReader = (topic, partitions, onRecord) => {
      reads++;
      expect(topic).toBe('p.seen.changelog');
      for (const [p, k, v] of changelog)
        if (partitions.includes(p)) onRecord(p, Buffer.from(k), v === null ? null : Buffer.from(v));
      return Promise.resolve();
    };
    const state = new StateManager({ seen: keyedStore() }, changelogFor, reader, log);
    expect(() => keyed(state, 'seen', 1)).toThrow('not restored');
    await state.sync([1]);
    expect(keyed(state, 'seen', 1).get('x')).toBe('second');
    expect(keyed(state, 'seen', 1).has('gone')).toBe(false);
    await state.sync([1]);
    expect(reads).toBe(1);
    await state.sync([2]);
    expect(keyed(state, 'seen', 2).get('y')).toBe('other');
    expect(() => keyed(state, 'seen', 1)).toThrow('not restored');
  });

  it('expires a local-expiry store without tombstones, still undoable, and caps it while restoring', async () => {
    const state = new StateManager(
      { seen: keyedStore({ localExpiry: true, maxEntries: () => 3 }) },
      changelogFor,
      undefined,
      log,
    );
    await state.sync([0]);
    const seen = keyed(state, 'seen', 0);
    for (let t = 0; t < 5; t++) seen.set(`id${t}`, t, t);
    state.commit();
    expect(seen.expireBefore(2)).toBe(2);
    expect(state.changelogMessages()).toEqual([]);
    state.rollback();
    expect(seen.has('id0')).toBe(true);

    const reader: ChangelogReader = (_topic, _partitions, onRecord) => {
      for (let t = 0; t < 10; t++) onRecord(0, Buffer.from(`id${t}`), Buffer.from(`{"v":${t},"t":${t}}`));
      return Promise.resolve();
    };
    const restored = new StateManager(
      { seen: keyedStore({ localExpiry: true, maxEntries: () => 3 }) },
      changelogFor,
      reader,
      log,
    );
    await restored.sync([0]);
    expect([...keyed(restored, 'seen', 0).entries()].map(([k]) => k)).toEqual(['id7', 'id8', 'id9']);
  });

  it('drops a revoked partition at once, so one assigned back with no batch between is restored afresh (finding 6)', async () => {
    const changelog: Array<[number, string, string]> = [[1, 'x', '{"v":"ours","t":1}']];
    const reader: ChangelogReader = (_topic, partitions, onRecord) => {
      for (const [p, k, v] of changelog)
        if (partitions.includes(p)) onRecord(p, Buffer.from(k), Buffer.from(v));
      return Promise.resolve();
    };
    const state = new StateManager({ seen: keyedStore() }, changelogFor, reader, log);
    const listener = state.rebalanceListener('in');
    await state.sync([1]);
    expect(keyed(state, 'seen', 1).get('x')).toBe('ours');
    // Revoked, then given back before this copy's next batch: sync() only ever sees [1].
    listener.onRevoked?.([{ topic: 'in', partition: 1 }]);
    expect(() => keyed(state, 'seen', 1)).toThrow('not restored');
    changelog.push([1, 'x', '{"v":"written by the other copy meanwhile","t":2}']);
    listener.onAssigned?.([{ topic: 'in', partition: 1 }]);
    await state.sync([1]);
    expect(keyed(state, 'seen', 1).get('x')).toBe('written by the other copy meanwhile');
  });

  it('does not install a restore that a revocation overtook', async () => {
    let release: () => void = () => undefined;
    const reader: ChangelogReader = (_topic, _partitions, onRecord) => {
      onRecord(1, Buffer.from('x'), Buffer.from('{"v":"stale","t":1}'));
      return new Promise((resolve) => (release = resolve));
    };
    const state = new StateManager({ seen: keyedStore() }, changelogFor, reader, log);
    const restoring = state.sync([1]);
    state.rebalanceListener('in').onRevoked?.([{ topic: 'in', partition: 1 }]);
    release();
    await restoring;
    expect(() => keyed(state, 'seen', 1)).toThrow('not restored');
  });
});
