// Process-level: a processor whose `open` hook cannot load its rules file stops at start with exit 2
// and a message naming the file and what to fix, before it touches Kafka (the broker address is a
// closed port, so reaching Kafka would fail differently and later). Needs no stack: unit project.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_BAD_CONFIG } from '../host/process-lifecycle.ts';

describe('runProcessor with an open hook', () => {
  it('exits 2 naming the rules file and the fix when the file is missing, before touching Kafka', () => {
    const dir = mkdtempSync(join(tmpdir(), 'open-hook-'));
    const rulesFile = join(dir, 'missing-rules.json');
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'runtime/testing/fixtures/rules-processor.ts'],
      {
        encoding: 'utf8',
        timeout: 60_000,
        env: {
          PATH: process.env['PATH'] ?? '',
          TRIBUTARY_RULES_FILE: rulesFile,
          TRIBUTARY_KAFKA_BROKERS: '127.0.0.1:1',
          TRIBUTARY_STATE_DIR: dir,
          TRIBUTARY_HTTP_PORT: '0',
        },
      },
    );
    const output = child.stdout + child.stderr;
    expect(child.status, output).toBe(EXIT_BAD_CONFIG);
    expect(output).toContain('TRIBUTARY_DEFINITION_OPEN_FAILED');
    expect(output).toContain(
      `${rulesFile}: the rules file cannot be read; set TRIBUTARY_RULES_FILE to a JSON file`,
    );
    expect(output).not.toContain('TRIBUTARY_KAFKA');
  }, 60_000); // a real process: node + tsx start-up alone can take seconds on a busy machine
});
