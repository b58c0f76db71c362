// The `schemas check` table: one row per subject, its verdict and, when incompatible, the fields why.
import { colourOn, textTable } from '../../runtime/observability/terminal.ts';
import type { SubjectCheck, SubjectVerdict } from '../../runtime/serde/index.ts';

const VERDICT_TEXT: Record<SubjectVerdict, string> = {
  new: 'new subject',
  registered: 'registered',
  compatible: 'compatible',
  incompatible: 'INCOMPATIBLE',
};

const VERDICT_COLOUR: Record<SubjectVerdict, string> = {
  new: '\x1b[36m',
  registered: '\x1b[32m',
  compatible: '\x1b[32m',
  incompatible: '\x1b[31m',
};

export interface CheckRow extends SubjectCheck {
  usedBy: readonly string[];
}

/** Coloured (verdicts too) only for a colour terminal: not piped, not under NO_COLOR. */
export function checksTable(rows: readonly CheckRow[], colour = colourOn()): string {
  const table = textTable({ head: ['subject', 'record', 'used by', 'registry', 'verdict', 'why'] }, colour);
  for (const row of rows) {
    const text = VERDICT_TEXT[row.verdict];
    table.push([
      row.subject,
      row.record,
      row.usedBy.join('\n'),
      registryCell(row),
      colour ? `${VERDICT_COLOUR[row.verdict]}${text}\x1b[0m` : text,
      row.problems.join('\n'),
    ]);
  }
  return table.toString();
}

function registryCell(row: SubjectCheck): string {
  if (row.latestVersion === undefined) return '-';
  const latest = `latest v${row.latestVersion}`;
  if (row.registeredVersion === undefined || row.registeredVersion === row.latestVersion) return latest;
  return `${latest} (this schema is v${row.registeredVersion})`;
}

/** One line under the table: how many subjects of each verdict. */
export function checksSummary(rows: readonly SubjectCheck[]): string {
  const count = (verdict: SubjectVerdict) => rows.filter((row) => row.verdict === verdict).length;
  const bad = count('incompatible');
  const parts = [`${rows.length} subjects`, `${bad} incompatible`];
  for (const verdict of ['compatible', 'registered', 'new'] as const)
    parts.push(`${count(verdict)} ${verdict}`);
  return `${parts.join(', ')}${bad > 0 ? ': a deploy would be refused' : ''}`;
}
