// Regression: `npm run test:integration` and `npm run test:e2e` named vitest projects ("integration",
// "e2e") that vitest.config.ts does not define, so both failed at start with "No projects matched".
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import config from '../vitest.config.ts';

const scripts = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;

const projectNames = (config.test?.projects ?? []).map((project) =>
  typeof project === 'object' && 'test' in project ? project.test?.name : undefined,
);

describe('package.json test scripts', () => {
  it.each(['test:unit', 'test:integration', 'test:e2e'])('%s runs a vitest project that exists', (name) => {
    const script = scripts[name] ?? '';
    const project = /--project (\S+)/.exec(script)?.[1];
    expect(project, script).toBeDefined();
    expect(projectNames).toContain(project);
  });

  it('splits the stack project into integration files and end-to-end files', () => {
    expect(scripts['test:integration']).toBe('vitest run --project stack .integration.test.ts');
    expect(scripts['test:e2e']).toBe('vitest run --project stack test/e2e/');
  });
});
