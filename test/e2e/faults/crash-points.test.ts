// Crash points: each case SIGKILLs one process at an exact place in the exactly-once protocol through
// the test-only fault switch, restarts it clean (as the supervisor would), and the run must reconcile
// exactly with the load generator's ground truth, in Kafka and in ClickHouse.
import { describe, expect, inject, it } from 'vitest';
import { describeVerdict, faultFired, noUnplannedExits, runFaultCase } from './run-case.ts';
import type { CopySpec } from './supervised-copy.ts';

const stack = { brokers: inject('brokers'), registryUrl: inject('registryUrl') };
const reportFile = inject('faultReport');
const LOAD = { count: 20_000, rate: 5_000, seed: 21 };

function copies(faulty: 'ingest' | 'sink', fault: string): CopySpec[] {
  const ingest: CopySpec[] = [
    { processor: 'ingest', instanceId: '0', ...(faulty === 'ingest' ? { fault } : {}) },
    { processor: 'ingest', instanceId: '1' },
  ];
  return [...ingest, { processor: 'sink', instanceId: '0', ...(faulty === 'sink' ? { fault } : {}) }];
}

const CASES: Array<{ name: string; faulty: 'ingest' | 'sink'; fault: string }> = [
  {
    name: 'processor killed after produce, before sending offsets',
    faulty: 'ingest',
    fault: 'processor.send-offsets:kill@3',
  },
  {
    name: 'processor killed after sending offsets, before commit',
    faulty: 'ingest',
    fault: 'processor.commit:kill@3',
  },
  { name: 'processor killed during commit', faulty: 'ingest', fault: 'processor.commit:kill-soon@3' },
  { name: 'sink killed before insert', faulty: 'sink', fault: 'sink.insert:kill@3' },
  { name: 'sink killed during insert', faulty: 'sink', fault: 'sink.insert:kill-soon@3' },
  { name: 'sink killed after insert, before commit', faulty: 'sink', fault: 'sink.commit:kill@2' },
];

describe('crash points, each a SIGKILL and a clean restart', () => {
  for (const { name, faulty, fault } of CASES)
    it(`${name} (${fault}) reconciles exactly`, async () => {
      const verdict = await runFaultCase({
        fault: `${name} (${fault})`,
        stack,
        reportFile,
        copies: copies(faulty, fault),
        load: LOAD,
        require: (run, outcome) => [...faultFired(run), ...noUnplannedExits(run, outcome)],
      });
      expect(verdict.passed, describeVerdict(verdict)).toBe(true);
    });
});
