// `tributary test`: typecheck, lint, format check, unit tests, then the tests against a real stack, then
// the fault suite (`--faults` runs the fault suite alone).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { textTable } from '../../runtime/observability/terminal.ts';
import { faultReport, readVerdicts } from '../../test/e2e/faults/fault-report.ts';
import type { Command } from '../command.ts';
import { parseArgs } from '../command.ts';

interface Step {
  name: string;
  command: string[];
  /** Where vitest writes its JSON report, to count tests. */
  report?: string;
  env?: Record<string, string>;
  /** Printed after the step, whatever its result (the fault suite's table). */
  after?: () => string;
  /**
   * Past this the step is stopped and fails, printing what was still running: a hang must end as a red
   * step with evidence, within CI's 90 minutes, not as a CI timeout with none. About twice a loaded run.
   */
  limitMinutes: number;
}

interface StepResult {
  name: string;
  ok: boolean;
  seconds: number;
  passed: number;
  failed: number;
}

function run(step: Step): Promise<number> {
  const [bin = '', ...args] = step.command;
  return new Promise((resolve) => {
    // Its own process group, so a step past its limit is stopped with everything it started.
    const child = spawn(bin, args, {
      stdio: 'inherit',
      env: { ...process.env, ...step.env },
      detached: true,
    });
    const limit = setTimeout(() => {
      console.error(`\n✗ ${step.name} still running after ${step.limitMinutes} min; stopping it. Running:`);
      console.error(runningProcesses());
      if (child.pid !== undefined) killGroup(child.pid);
    }, step.limitMinutes * 60_000);
    // A detached group misses the terminal's Ctrl-C: pass it on, and stop here too.
    const interrupt = (signal: NodeJS.Signals): void => {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
      process.exit(130);
    };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    child.once('exit', (code) => {
      clearTimeout(limit);
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      // What a test started and left running (in the step's group) would hold CI's output open for good.
      if (child.pid !== undefined && groupAlive(child.pid)) {
        console.error(`\n✗ ${step.name} left processes running; stopping them:`);
        console.error(runningProcesses());
        killGroup(child.pid);
      }
      resolve(code ?? 1);
    });
  });
}

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process with its age and command line (cut), as a forest: which test was stuck, on what. */
function runningProcesses(): string {
  try {
    const forest = execFileSync('ps', ['-eo', 'pid,ppid,etimes,args', '--forest'], { encoding: 'utf8' });
    return forest
      .split('\n')
      .map((line) => line.slice(0, 240))
      .join('\n');
  } catch (error) {
    return `(ps failed: ${String(error)})`;
  }
}

function countTests(report: string | undefined): { passed: number; failed: number } {
  if (report === undefined) return { passed: 0, failed: 0 };
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      numPassedTests: number;
      numFailedTests: number;
    };
    return { passed: json.numPassedTests, failed: json.numFailedTests };
  } catch {
    return { passed: 0, failed: 0 };
  }
}

function vitestStep(
  name: string,
  project: string,
  dir: string,
  filters: string[],
  limitMinutes: number,
): Step {
  const report = join(dir, `${project}.json`);
  return {
    name,
    limitMinutes,
    command: [
      'node_modules/.bin/vitest',
      'run',
      '--project',
      project,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...filters,
    ],
    report,
  };
}

/** The fault suite (test/e2e/faults): its verdicts go to a file, printed as one table after the step. */
function faultStep(dir: string, filters: string[]): Step {
  const verdicts = join(dir, 'fault-verdicts.jsonl');
  return {
    ...vitestStep('fault suite', 'faults', dir, filters, 20),
    env: { TRIBUTARY_FAULT_REPORT: verdicts },
    after: () => faultReport(readVerdicts(verdicts)),
  };
}

function plannedSteps(dir: string, positional: string[], options: Map<string, string | true>): Step[] {
  const faults = options.get('faults');
  // `--faults zombie` reads as an option value: it is a filter all the same.
  if (faults !== undefined)
    return [faultStep(dir, typeof faults === 'string' ? [faults, ...positional] : positional)];
  const steps: Step[] = [
    {
      name: 'typecheck',
      command: ['node_modules/.bin/tsc', '-p', 'tsconfig.json', '--noEmit'],
      limitMinutes: 5,
    },
    { name: 'lint', command: ['node_modules/.bin/eslint', '--max-warnings=0', '.'], limitMinutes: 5 },
    {
      name: 'format',
      command: ['node_modules/.bin/prettier', '--check', '--log-level=warn', '.'],
      limitMinutes: 5,
    },
    vitestStep('unit tests', 'unit', dir, positional, 10),
  ];
  if (options.get('unit-only') === undefined)
    steps.push(
      vitestStep('integration + e2e tests', 'stack', dir, positional, 35),
      faultStep(dir, positional),
    );
  return steps;
}

export const testCommand: Command = {
  name: 'test',
  usage: 'test [--unit-only | --faults] [vitest filters…]',
  summary:
    'typecheck, lint, unit tests, integration and end-to-end tests against a real local stack, then the fault suite (--faults: only that)',
  async run(args) {
    const { positional, options } = parseArgs(args);
    const dir = mkdtempSync(join(tmpdir(), 'tributary-test-'));
    const steps = plannedSteps(dir, positional, options);

    const results: StepResult[] = [];
    for (const step of steps) {
      process.stdout.write(`\n▶ ${step.name}: ${step.command.join(' ')}\n`);
      const started = Date.now();
      const code = await run(step);
      results.push({
        name: step.name,
        ok: code === 0,
        seconds: (Date.now() - started) / 1000,
        ...countTests(step.report),
      });
      if (step.after !== undefined) console.log(`\n${step.after()}`);
    }
    const table = textTable({ head: ['step', 'result', 'tests passed', 'tests failed', 'time'] });
    for (const r of results)
      table.push([r.name, r.ok ? 'ok' : 'FAILED', r.passed, r.failed, `${r.seconds.toFixed(1)} s`]);
    console.log(`\n${table.toString()}`);
    const passed = results.reduce((sum, r) => sum + r.passed, 0);
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    const allOk = results.every((r) => r.ok);
    // The plain closing line CI reads: counts of tests, and a failed step counts as a failure.
    console.log(`${passed} passed, ${failed + (allOk || failed > 0 ? 0 : 1)} failed`);
    return allOk ? 0 : 1;
  },
};
