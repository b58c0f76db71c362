import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../infra/pipeline/processor-process.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `node cli/bundled.mjs run` with no name: the CLI's usage error, from the bundle in `bundleDir`. */
function runWithoutName(bundleDir: string): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, ['cli/bundled.mjs', 'run'], {
    cwd: REPO_ROOT,
    env: { ...process.env, TRIBUTARY_BUNDLE_DIR: bundleDir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr };
}

/** A build dir of its own, inside the checkout: the bundle imports packages from its node_modules. */
function bundleDir(): string {
  mkdirSync(join(REPO_ROOT, '.tributary'), { recursive: true });
  const dir = mkdtempSync(join(REPO_ROOT, '.tributary', 'test-bundle-'));
  dirs.push(dir);
  return dir;
}

describe('cli/bundled.mjs', () => {
  it('builds the bundle for run, keeps it while the sources are unchanged, and rebuilds it after a change', () => {
    const dir = bundleDir();
    const first = runWithoutName(dir);
    expect(first.status).toBe(2);
    expect(first.stderr).toContain('usage: tributary run <processor|sink>');
    expect(first.stderr).not.toContain('running through tsx');
    const builtAt = statSync(join(dir, 'cli.mjs')).mtimeMs;

    expect(runWithoutName(dir).status).toBe(2);
    expect(statSync(join(dir, 'cli.mjs')).mtimeMs).toBe(builtAt);

    // As if every source had changed after the build started.
    const [, ...inputs] = readFileSync(join(dir, 'cli.inputs'), 'utf8').split('\n');
    expect(inputs).toContain('runtime/serde/schema-loader.ts');
    writeFileSync(join(dir, 'cli.inputs'), ['0', ...inputs].join('\n'));
    expect(runWithoutName(dir).status).toBe(2);
    expect(statSync(join(dir, 'cli.mjs')).mtimeMs).toBeGreaterThan(builtAt);
  });

  it("keeps each module's own import.meta.url, so files beside a module are found from the bundle", () => {
    const dir = bundleDir();
    expect(runWithoutName(dir).status).toBe(2);
    const bundled = [
      readFileSync(join(dir, 'cli.mjs'), 'utf8'),
      ...readdirSync(join(dir, 'chunks'))
        .filter((f) => f.endsWith('.mjs'))
        .map((f) => readFileSync(join(dir, 'chunks', f), 'utf8')),
    ].join('\n');
    expect(bundled).toContain(
      JSON.stringify(pathToFileURL(join(REPO_ROOT, 'runtime/serde/schema-loader.ts')).href),
    );
    expect(bundled).not.toContain('import.meta.url');
  });

  it('runs through tsx, and says why, where the bundle cannot be built', () => {
    const result = runWithoutName(join(REPO_ROOT, 'package.json', 'bundle'));
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/cannot build .*cli\.mjs \(.+\); running through tsx/);
    expect(result.stderr).toContain('usage: tributary run <processor|sink>');
  });
});
