// Regression (issue 16, fault suite "broker SIGSTOPped"): a copy that abandoned a producer stuck inside
// librdkafka logged "loop stopped cleanly" and never exited, since process.exit joins the libuv
// threadpool and the stuck call holds a thread. A FIFO opened for reading with no writer holds a
// threadpool thread the same way, in a real process.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const EXIT_MODULE = fileURLToPath(new URL('./process-exit.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tributary-exit-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  code: number | null;
  output: string;
  /** Still running this long after it asked to exit (then killed). */
  hung: boolean;
}

/** Runs a process whose threadpool thread is blocked, which then calls `exitCall` (an expression). */
function exitWithABlockedThread(name: string, exitCall: string, patienceMs = 3_000): Promise<Outcome> {
  const fifo = join(dir, name);
  execFileSync('mkfifo', [fifo]);
  const script =
    `import { open } from 'node:fs'; import { exitWithoutJoiningThreads } from ${JSON.stringify(EXIT_MODULE)}; ` +
    `open(${JSON.stringify(fifo)}, 'r', () => {}); ` +
    `process.on('exit', (code) => process.stdout.write('exit listener ran with ' + code + '\\n')); ` +
    `setTimeout(() => { process.stdout.write('exiting\\n'); ${exitCall}; }, 300);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => {
    let hung = false;
    const watch = setInterval(() => {
      if (!output.includes('exiting')) return;
      clearInterval(watch);
      setTimeout(() => {
        hung = true;
        child.kill('SIGKILL');
      }, patienceMs);
    }, 20);
    child.once('exit', (code) => {
      clearInterval(watch);
      resolve({ code, output, hung });
    });
  });
}

describe('exiting with a native call still running', () => {
  it('process.exit hangs on the blocked thread (why the runtime does not use it then)', async () => {
    const outcome = await exitWithABlockedThread('plain', 'process.exit(7)');
    expect(outcome.hung).toBe(true);
  });

  it('exitWithoutJoiningThreads exits at once with the asked code, after the exit listeners', async () => {
    const outcome = await exitWithABlockedThread('skip', 'exitWithoutJoiningThreads(7)');
    expect(outcome).toEqual({ code: 7, output: 'exiting\nexit listener ran with 7\n', hung: false });
  });
});
