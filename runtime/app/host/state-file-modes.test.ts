// Issue 17, supply chain: the state directory and the files in it (instance slots, locks) say which
// process runs where and are created readable by their user only: 0700 directories, 0600 files.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tryClaim } from './exclusive-claim.ts';

const root = mkdtempSync(join(tmpdir(), 'tributary-modes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('state files', () => {
  it('are created 0700 (directories) and 0600 (files)', () => {
    const dir = join(root, 'state', 'instances', 'group');
    const result = tryClaim(dir, 'slot-0', { pid: process.pid });
    expect(result.claimed).toBe(true);
    expect([mode(join(root, 'state')), mode(dir)]).toEqual([0o700, 0o700]);
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect([file, mode(join(dir, file))]).toEqual([file, 0o600]);
  });
});
