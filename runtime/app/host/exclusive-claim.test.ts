// Regression (issue 9, finding 11): instance slots and the data-dir lock raced. A slot file was created
// empty and written after, so a copy reading it in between took it for a dead owner's and took it too;
// two processes taking over one stale lock could both win (each removed and re-created the file). Real
// processes race here, released at the same instant.
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SLOT_MODULE = fileURLToPath(new URL('./instance-slot.ts', import.meta.url));
const CLAIM_MODULE = fileURLToPath(new URL('./exclusive-claim.ts', import.meta.url));
const COPIES = 6;
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-claim-'));
  dirs.push(dir);
  return dir;
}

/**
 * Runs `body` (an ES module snippet whose value is printed) in `count` processes at the same instant:
 * each loads its module and says READY; once all have, the parent writes a start time into `go` and every
 * child spins until it. Each keeps what it took until every one has answered; then all are SIGKILLed
 * (a dead owner's claim stays behind, as after a crash).
 */
async function race(count: number, imports: string, body: string): Promise<string[]> {
  const go = join(tempDir(), 'go');
  const script =
    `import { existsSync, readFileSync } from 'node:fs'; ${imports}; console.log('READY'); ` +
    `const tick = new Int32Array(new SharedArrayBuffer(4)); ` +
    `while (!existsSync(${JSON.stringify(go)})) Atomics.wait(tick, 0, 0, 1); ` +
    `const goAt = Number(readFileSync(${JSON.stringify(go)}, 'utf8')); while (Date.now() < goAt) {} ` +
    `let out; try { out = ${body}; } catch (e) { out = 'refused:' + (e.code ?? e.message); } ` +
    `console.log('RESULT ' + out); setInterval(() => {}, 1000);`;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const lines = (child: (typeof children)[number], pattern: RegExp): Promise<string> =>
    new Promise((resolve) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = pattern.exec(output);
        if (match !== null) resolve(match[1] ?? '');
      });
      child.once('exit', () => resolve(`exited without a result (${output})`));
    });
  const ready = children.map((child) => lines(child, /(READY)\n/));
  const results = children.map((child) => lines(child, /RESULT (.*)\n/));
  await Promise.all(ready);
  writeFileSync(`${go}.tmp`, String(Date.now() + 200));
  renameSync(`${go}.tmp`, go);
  const answers = await Promise.all(results);
  await Promise.all(
    children.map((child) => new Promise((resolve) => (child.kill('SIGKILL'), child.once('exit', resolve)))),
  );
  return answers;
}

describe('claims raced by real processes', () => {
  it('copies starting at the same instant never share an instance slot', async () => {
    const stateDir = tempDir();
    for (let round = 0; round < 2; round++) {
      const slots = await race(
        COPIES,
        `import { claimInstanceSlot } from ${JSON.stringify(SLOT_MODULE)}`,
        `claimInstanceSlot(${JSON.stringify(stateDir)}, 'ingest').id`,
      );
      // Each round's copies die without releasing (SIGKILL): the next round takes their slots over.
      expect(new Set(slots).size, `slots of round ${round}: ${slots.join(', ')}`).toBe(COPIES);
      expect(slots.every((slot) => /^\d+$/.test(slot))).toBe(true);
    }
  }, 120_000);

  it("of processes taking over one dead owner's lock at the same instant, exactly one wins", async () => {
    // The primitive under the data-dir lock (which adds only its message), raced without loading the runtime.
    const dir = tempDir();
    for (let round = 0; round < 2; round++) {
      const outcomes = await race(
        COPIES,
        `import { tryClaim } from ${JSON.stringify(CLAIM_MODULE)}`,
        `tryClaim(${JSON.stringify(dir)}, 'tributary.lock', { pid: process.pid }, { ownPid: 'stale' }).claimed`,
      );
      // Round 0 races for a fresh directory, round 1 for round 0's dead winner's lock.
      expect(
        outcomes.filter((o) => o === 'true'),
        outcomes.join(', '),
      ).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'false')).toHaveLength(COPIES - 1);
    }
  }, 120_000);
});
