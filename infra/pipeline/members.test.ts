import { describe, expect, it } from 'vitest';
import { parseCopies } from './members.ts';

const members = [
  { name: 'ingest', defaultCopies: 1 },
  { name: 'clickhouse-sink', defaultCopies: 1 },
];

describe('parseCopies', () => {
  it('keeps the defaults and applies name=N over them', () => {
    expect([...parseCopies(['ingest=2'], members)]).toEqual([
      ['ingest', 2],
      ['clickhouse-sink', 1],
    ]);
    expect(parseCopies(['ingest=3, clickhouse-sink=0'], members).get('clickhouse-sink')).toBe(0);
  });

  it('refuses an unknown member and a malformed part, naming them', () => {
    expect(() => parseCopies(['enrich=2'], members)).toThrow(/no pipeline member "enrich"/);
    expect(() => parseCopies(['ingest'], members)).toThrow(/got "ingest"/);
    expect(() => parseCopies(['ingest=99'], members)).toThrow(/at most 32/);
  });
});
