// A rule's summary: text with `{{ $name }}` placeholders, nothing else (no pipes, no logic), checked when
// the rules file loads so a typo stops the process at start rather than reaching a pager.

export const SUMMARY_VARIABLES = [
  'service',
  'value',
  'threshold',
  'rule',
  'kind',
  'state',
  'severity',
] as const;
export type SummaryVariable = (typeof SUMMARY_VARIABLES)[number];
export type SummaryValues = Record<SummaryVariable, string | number>;

type Part = { text: string } | { variable: SummaryVariable };

const PLACEHOLDER = /\{\{\s*\$([A-Za-z_]\w*)\s*\}\}/g;

export interface CompiledSummary {
  parts?: Part[];
  /** What is wrong with the template, with what to write instead. */
  problem?: string;
}

export function compileSummary(template: string): CompiledSummary {
  const parts: Part[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    if (!(SUMMARY_VARIABLES as readonly string[]).includes(name))
      return { problem: `unknown variable {{ $${name} }}; known: ${known()}` };
    parts.push({ text: template.slice(last, match.index) }, { variable: name as SummaryVariable });
    last = match.index + match[0].length;
  }
  parts.push({ text: template.slice(last) });
  const stray = parts.find((p) => 'text' in p && (p.text.includes('{{') || p.text.includes('}}')));
  if (stray !== undefined)
    return { problem: `a "{{" or "}}" that is not a placeholder; write placeholders as ${known()}` };
  return { parts: parts.filter((p) => !('text' in p) || p.text !== '') };
}

export function renderSummary(template: string, values: SummaryValues): string {
  const { parts } = compileSummary(template);
  return (parts ?? [])
    .map((part) => ('text' in part ? part.text : formatValue(values[part.variable])))
    .join('');
}

/** Numbers to four significant digits (0.1234, 523.4, 14.4): enough for a page, stable across runs. */
function formatValue(value: string | number): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(4))) : value;
}

function known(): string {
  return SUMMARY_VARIABLES.map((v) => `{{ $${v} }}`).join(', ');
}
