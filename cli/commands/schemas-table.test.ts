import { describe, expect, it } from 'vitest';
import { checksSummary, checksTable } from './schemas-table.ts';
import type { CheckRow } from './schemas-table.ts';

const rows: CheckRow[] = [
  {
    subject: 'requests.valid-value',
    record: 'tributary.RequestEvent',
    usedBy: ['ingest writes', 'clickhouse-sink reads'],
    verdict: 'incompatible',
    latestVersion: 2,
    incompatibleVersions: [1],
    problems: ['field "zone" was added without a default (version 1 has no such field)'],
  },
  {
    subject: 'requests.dlq-value',
    record: 'tributary.DeadLetter',
    usedBy: ['ingest writes'],
    verdict: 'registered',
    latestVersion: 3,
    registeredVersion: 1,
    incompatibleVersions: [],
    problems: [],
  },
  {
    subject: 'ref.customers-value',
    record: 'tributary.Customer',
    usedBy: ['ref load writes'],
    verdict: 'new',
    latestVersion: undefined,
    incompatibleVersions: [],
    problems: [],
  },
];

describe('schemas check table', () => {
  it('shows each subject with its users, registry version, verdict and the offending field', () => {
    const table = checksTable(rows, false);
    expect(table).toContain('field "zone" was added without a default');
    expect(table).toMatch(
      /requests\.valid-value .*tributary\.RequestEvent .*ingest writes .*latest v2 .*INCOMPATIBLE/,
    );
    expect(table).toContain('clickhouse-sink reads');
    expect(table).toContain('latest v3 (this schema is v1)');
    expect(table).toMatch(/ref\.customers-value .* - .* new subject/);
    expect(table).not.toContain('\x1b[');
  });

  it('colours the verdicts only for a colour terminal', () => {
    expect(checksTable(rows, true)).toContain('\x1b[31mINCOMPATIBLE\x1b[0m');
    expect(checksTable(rows, false)).not.toContain('\x1b[');
  });

  it('sums up the verdicts and says when a deploy would be refused', () => {
    expect(checksSummary(rows)).toBe(
      '3 subjects, 1 incompatible, 0 compatible, 1 registered, 1 new: a deploy would be refused',
    );
    expect(checksSummary(rows.slice(1))).toBe(
      '2 subjects, 0 incompatible, 0 compatible, 1 registered, 1 new',
    );
  });
});
