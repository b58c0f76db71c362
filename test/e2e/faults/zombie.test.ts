// A zombie: one ingest copy frozen (SIGSTOP) with a batch in hand until the group gives its partitions
// to the other copy, then thawed (SIGCONT). Whatever it had in flight must never land: exact.
import { describe, expect, inject, it } from 'vitest';
import { describeVerdict, runFaultCase } from './run-case.ts';

const stack = { brokers: inject('brokers'), registryUrl: inject('registryUrl') };
const reportFile = inject('faultReport');
/** Session timeout (6 s, processEnv) plus the rebalance: by then the other copy owns every partition. */
const FROZEN_MS = 15_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a zombie copy', () => {
  it('one ingest copy SIGSTOPped until its partitions move, then SIGCONT: it writes nothing', async () => {
    const verdict = await runFaultCase({
      fault: 'zombie: ingest copy SIGSTOPped past its session, then SIGCONT',
      stack,
      reportFile,
      copies: [
        { processor: 'ingest', instanceId: '0' },
        { processor: 'ingest', instanceId: '1' },
        { processor: 'sink', instanceId: '0' },
      ],
      load: { count: 40_000, rate: 4_000, seed: 41 },
      during: async (run) => {
        const [zombie] = run.copies;
        if (zombie === undefined) return;
        await sleep(1500);
        const pid = zombie.pid;
        process.kill(pid, 'SIGSTOP');
        await sleep(FROZEN_MS);
        process.kill(pid, 'SIGCONT');
      },
      // A zombie may stop itself once fenced (exit 3); any other exit is a problem.
      require: (run) =>
        run.copies.flatMap((c) =>
          c.exits
            .filter((e) => !(c.spec.instanceId === '0' && c.spec.processor === 'ingest' && e.code === 3))
            .map((e) => `${c.spec.processor}-${c.spec.instanceId} exited (${e.signal ?? `code ${e.code}`})`),
        ),
    });
    expect(verdict.passed, describeVerdict(verdict)).toBe(true);
  });
});
