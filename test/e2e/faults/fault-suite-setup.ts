// vitest globalSetup for the `faults` project (after test/stack-setup.ts): a fresh report file for the
// cases' verdicts, printed as the suite's table when the run ends.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { faultReport, readVerdicts } from './fault-report.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    faultReport: string;
  }
}

export default function setup(project: TestProject): () => void {
  // `tributary test` names the file and prints the table itself; a bare vitest run gets one printed here.
  const named = process.env.TRIBUTARY_FAULT_REPORT;
  const reportFile = named ?? join(mkdtempSync(join(tmpdir(), 'tributary-faults-')), 'verdicts.jsonl');
  const startedAt = Date.now();
  project.provide('faultReport', reportFile);
  return () => {
    if (named !== undefined) return;
    const verdicts = readVerdicts(reportFile);
    const minutes = ((Date.now() - startedAt) / 60_000).toFixed(1);
    console.log(
      `\n[faults] fault suite, ${minutes} min (verdicts in ${reportFile})\n${faultReport(verdicts)}`,
    );
  };
}
