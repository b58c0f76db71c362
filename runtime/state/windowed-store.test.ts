// The windowed store: windows closed in window-end order and removed with tombstones, its changelog
// restoring exactly the open windows, and an aborted batch undone even after in-place updates.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSchema } from '../serde/index.ts';
import { InMemorySchemaRegistry } from '../testing/in-memory-schema-registry.ts';
import type { JournalEntry } from './journal.ts';
import { buildStoreCodecs } from './store-codecs.ts';
import type { StoreCodec, WindowedEntry } from './store-codecs.ts';
import { PartitionWindowedStore } from './windowed-store.ts';

const COUNT = parseSchema(
  JSON.stringify({ type: 'record', name: 'Count', namespace: 'test', fields: [{ name: 'n', type: 'long' }] }),
  'count.avsc',
);
let codec: StoreCodec<WindowedEntry>;

beforeAll(async () => {
  const codecs = await buildStoreCodecs(
    'test',
    { windows: { kind: 'windowed', schema: 'Count' } },
    {
      registry: new InMemorySchemaRegistry(),
      changelogTopicFor: (s) => `p.${s}.changelog`,
      schemas: new Map([['Count', COUNT]]),
    },
  );
  codec = codecs.get('windows') as StoreCodec<WindowedEntry>;
});

function store() {
  const journal: JournalEntry[] = [];
  const windows = new PartitionWindowedStore<{ n: number }>('windows', 0, journal, codec);
  const changelog = () => windows.changelogRecords(new Set(journal.map((e) => e.key ?? '')));
  const rollback = () => {
    while (journal.length > 0) journal.pop()?.undo();
  };
  const commit = () => {
    windows.commit();
    journal.length = 0;
  };
  return { windows, changelog, rollback, commit };
}

describe('PartitionWindowedStore', () => {
  it('closes windows by end, then start, then key, and removes them', () => {
    const { windows } = store();
    windows.set('b', 60, 120, { n: 1 });
    windows.set('a', 0, 60, { n: 2 });
    windows.set('c', 0, 60, { n: 3 });
    windows.set('a', 60, 120, { n: 4 });
    expect(windows.nextEndMs).toBe(60);
    expect(windows.closeUntil(59)).toEqual([]);
    expect(windows.closeUntil(120).map((w) => `${w.key}@${w.startMs}`)).toEqual([
      'a@0',
      'c@0',
      'a@60',
      'b@60',
    ]);
    expect(windows.size).toBe(0);
    expect(windows.nextEndMs).toBeUndefined();
  });

  it('restores exactly the open windows from its changelog (closed ones are tombstones)', () => {
    const { windows, changelog } = store();
    windows.set('a', 0, 60, { n: 1 });
    windows.set('a', 60, 120, { n: 2 });
    windows.closeUntil(60);
    const records = changelog();
    expect(records.find((r) => r.key.toString() === '0|a')?.value).toBeNull();
    const restored = new PartitionWindowedStore<{ n: number }>('windows', 0, [], codec);
    for (const r of records) restored.applyRestored(r.key, r.value);
    expect([...restored.entries()]).toEqual([{ key: 'a', startMs: 60, endMs: 120, value: { n: 2 } }]);
  });

  it('gives an aborted batch the committed windows back', () => {
    const { windows, rollback, commit } = store();
    windows.set('a', 0, 60, { n: 1 });
    commit();
    windows.set('a', 0, 60, { n: 5 });
    windows.set('b', 0, 60, { n: 9 });
    windows.closeUntil(60);
    rollback();
    expect([...windows.entries()]).toEqual([{ key: 'a', startMs: 0, endMs: 60, value: { n: 1 } }]);
  });

  it('refuses a changelog key it cannot have written', () => {
    const restored = new PartitionWindowedStore('windows', 0, [], codec);
    expect(() => restored.applyRestored(Buffer.from('nokey'), null)).toThrow(
      expect.objectContaining({ code: 'TRIBUTARY_STATE_CHANGELOG_CORRUPT' }),
    );
  });
});
