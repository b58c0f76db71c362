// The windowed store: windows closed in window-end order and removed with tombstones, its changelog
// restoring exactly the open windows, and an aborted batch undone even after in-place updates.
import { describe, expect, it } from 'vitest';
import type { JournalEntry } from './journal.ts';
import { PartitionWindowedStore } from './windowed-store.ts';

function store() {
  const journal: JournalEntry[] = [];
  const windows = new PartitionWindowedStore<{ n: number }>('windows', 0, journal);
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
    const restored = new PartitionWindowedStore<{ n: number }>('windows', 0, []);
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
    const restored = new PartitionWindowedStore('windows', 0, []);
    expect(() => restored.applyRestored(Buffer.from('nokey'), null)).toThrow(
      expect.objectContaining({ code: 'TRIBUTARY_STATE_CHANGELOG_CORRUPT' }),
    );
  });
});
