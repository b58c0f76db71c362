// Loads and checks a rules file at start: YAML (the `yaml` package keeps every node's source range, so a
// problem is reported at its line), then the zod shape of rules.ts. Any problem is a ResourceError naming
// the file, the line, the rule and what to fix; the process stops at start with exit 2.
import { readFileSync } from 'node:fs';
import { LineCounter, isNode, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { ResourceError } from '../../runtime/index.ts';
import { rulesFileSchema } from './rules.ts';
import type { AlertRule } from './rules.ts';

const FIX =
  'fix the rules file (processors/alert/default-rules.yaml shows every kind and key) and start again';

export function loadRulesFile(path: string): AlertRule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ResourceError(path, 'the rules file cannot be read', `check rulesFile (${path})`, {
      cause: error,
    });
  }
  return parseRules(text, path);
}

/** Parses rules from YAML text; `source` names the file in errors. */
export function parseRules(text: string, source: string): AlertRule[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const line = yamlError.linePos?.[0].line ?? 1;
    throw new ResourceError(`${source}:${line}`, `not valid YAML: ${firstLine(yamlError.message)}`, FIX);
  }
  const raw: unknown = doc.toJS();
  const parsed = rulesFileSchema.safeParse(raw);
  if (!parsed.success) throw shapeError(parsed.error, doc, lines, raw, source);
  const rules = parsed.data.groups.flatMap((group) =>
    group.rules.map((rule): AlertRule => ({
      ...rule,
      recovery: rule.recovery_threshold ?? rule.threshold,
      group: group.name,
    })),
  );
  checkUniqueNames(rules, doc, lines, source);
  return rules;
}

function shapeError(
  error: z.ZodError,
  doc: Document,
  lines: LineCounter,
  raw: unknown,
  source: string,
): ResourceError {
  const problems = error.issues.map((issue) => {
    const path = issue.path.filter((p) => typeof p !== 'symbol');
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const at = keys[0] === undefined ? path : [...path, keys[0]];
    return {
      line: lineOf(doc, lines, at),
      text: `${ruleOf(raw, path)}${describeIssue(issue, doc, path, keys)}`,
    };
  });
  problems.sort((a, b) => a.line - b.line);
  const [first, ...more] = problems;
  const problem = [first?.text ?? '', ...more.map((p) => `line ${p.line}: ${p.text}`)].join('; ');
  return new ResourceError(`${source}:${first?.line ?? 1}`, problem, FIX);
}

function describeIssue(
  issue: z.core.$ZodIssue,
  doc: Document,
  path: Array<string | number>,
  keys: string[],
): string {
  if (keys.length > 0)
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')} (a typo? default-rules.yaml lists each kind's keys)`;
  if (issue.code === 'invalid_type' && !doc.hasIn(path))
    return `${String(path[path.length - 1])} is missing: add it (${issue.message})`;
  return issue.message;
}

/** The line of the node at `path`, or of its nearest parent that exists (a missing key: its rule). */
function lineOf(doc: Document, lines: LineCounter, path: ReadonlyArray<string | number>): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range !== null && node.range !== undefined)
      return lines.linePos(node.range[0]).line;
  }
  return 1;
}

/** `rule "Name" (group "g"): ` for a path inside a rule, else nothing. */
function ruleOf(raw: unknown, path: ReadonlyArray<string | number>): string {
  if (path[0] !== 'groups' || path[2] !== 'rules' || typeof path[3] !== 'number') return '';
  const group = (raw as { groups: Array<{ name?: unknown; rules: Array<{ alert?: unknown }> }> }).groups[
    Number(path[1])
  ];
  const name = group?.rules[path[3]]?.alert;
  const label = typeof name === 'string' ? `rule "${name}"` : `rule #${path[3] + 1}`;
  return `${label} (group "${String(group?.name)}"): `;
}

function checkUniqueNames(rules: AlertRule[], doc: Document, lines: LineCounter, source: string): void {
  const seen = new Set<string>();
  for (const [index, rule] of rules.entries()) {
    if (!seen.has(rule.alert)) {
      seen.add(rule.alert);
      continue;
    }
    const line = lineOf(doc, lines, pathOfRule(doc, index));
    const problem = `rule "${rule.alert}" (group "${rule.group}"): alert: the name is used twice (it is part of every alert id)`;
    throw new ResourceError(`${source}:${line}`, problem, FIX);
  }
}

/** The document path of the n-th rule across groups. */
function pathOfRule(doc: Document, index: number): Array<string | number> {
  const groups = (doc.toJS() as { groups: Array<{ rules: unknown[] }> }).groups;
  let left = index;
  for (const [g, group] of groups.entries()) {
    if (left < group.rules.length) return ['groups', g, 'rules', left, 'alert'];
    left -= group.rules.length;
  }
  return [];
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
