// The rules file at start: the bundled defaults load; each kind of mistake stops the process (a
// ResourceError, exit 2) with the file, the line, the rule and what to fix.
import { describe, expect, it } from 'vitest';
import { ResourceError } from '../../runtime/index.ts';
import { TestDriver } from '../../runtime/testing/run-in-memory.ts';
import { DEFAULT_RULES_FILE, alert } from './alert.ts';
import { loadRulesFile, parseRules } from './rules-file.ts';
import { writeRules } from './test-rows.ts';

const GOOD = `groups:
  - name: web
    rules:
      - alert: Errors
        kind: error_ratio
        threshold: 0.1
        for: 3m
        keep_firing_for: 1h
        labels: { severity: page }
        summary: '{{ $service }} at {{ $value }}'
`;

function problemOf(yaml: string): ResourceError {
  try {
    parseRules(yaml, 'rules.yaml');
  } catch (error) {
    if (error instanceof ResourceError) return error;
    throw error;
  }
  expect.fail('expected a ResourceError');
}

describe('rules file', () => {
  it('loads the bundled default rules: one of each kind', () => {
    const kinds = loadRulesFile(DEFAULT_RULES_FILE).map((r) => r.kind);
    expect(kinds.sort()).toEqual(['error_ratio', 'latency_quantile', 'slo_burn_rate', 'traffic_drop']);
  });

  it('reads minutes as 3, "3m" or "1h", and defaults the recovery threshold to the threshold', () => {
    const [rule] = parseRules(GOOD, 'rules.yaml');
    expect(rule).toMatchObject({ for: 3, keep_firing_for: 60, recovery: 0.1, no_data: 'keep', group: 'web' });
  });

  it('bad YAML: the file and the line of the syntax error', () => {
    const error = problemOf(GOOD.replace('kind: error_ratio', 'kind: [error_ratio'));
    expect(error.code).toBe('TRIBUTARY_DEFINITION_OPEN_FAILED');
    expect(error.message).toMatch(/^rules\.yaml:\d+: not valid YAML/);
  });

  it('unknown kind: its line, the rule, and the kinds there are', () => {
    const error = problemOf(GOOD.replace('kind: error_ratio', 'kind: error_rate'));
    expect(error.message).toContain(
      'rules.yaml:5: rule "Errors" (group "web"): kind: one of error_ratio, latency_quantile, traffic_drop, slo_burn_rate',
    );
  });

  it("missing field: the rule's line and which key to add", () => {
    const error = problemOf(GOOD.replace('        threshold: 0.1\n', ''));
    expect(error.message).toContain(
      'rules.yaml:4: rule "Errors" (group "web"): threshold is missing: add it',
    );
  });

  it('a typo in a key, an unknown template variable and a bad duration: each at its own line', () => {
    const yaml = GOOD.replace('keep_firing_for: 1h', 'keep_firing: 1h')
      .replace('$value', '$valu')
      .replace('for: 3m', 'for: 3s');
    const { message } = problemOf(yaml);
    expect(message).toContain('rules.yaml:7: rule "Errors" (group "web"): for: expected whole minutes');
    expect(message).toContain('line 8: rule "Errors" (group "web"): unknown key "keep_firing"');
    expect(message).toContain('line 10: rule "Errors" (group "web"): summary: unknown variable {{ $valu }}');
  });

  it('a recovery threshold on the wrong side of the threshold, a missing severity, a name used twice', () => {
    const wrongSide = problemOf(
      GOOD.replace('threshold: 0.1', 'threshold: 0.1\n        recovery_threshold: 0.2'),
    );
    expect(wrongSide.message).toContain(
      'rules.yaml:7: rule "Errors" (group "web"): recovery_threshold: must be at most threshold',
    );
    expect(problemOf(GOOD.replace('severity: page', 'team: web')).message).toContain('labels.severity');
    const twice = `${GOOD}${GOOD.split('\n').slice(3).join('\n')}`;
    expect(problemOf(twice).message).toContain(
      'rules.yaml:11: rule "Errors" (group "web"): alert: the name is used twice',
    );
  });

  it('a bad file stops the processor at open, naming the file', async () => {
    const rulesFile = writeRules(GOOD.replace('kind: error_ratio', 'kind: nope'));
    await expect(TestDriver.create(alert, { config: { rulesFile } })).rejects.toThrow(
      `${rulesFile}:5: rule "Errors"`,
    );
    await expect(TestDriver.create(alert, { config: { rulesFile: `${rulesFile}.missing` } })).rejects.toThrow(
      ResourceError,
    );
  });
});
