// Negative controls: the same harness with one guarantee broken on purpose through the fault switch.
// Each must FAIL its reconciliation; if one reconciles, the harness cannot see that fault and the suite
// fails.
import { describe, expect, inject, it } from 'vitest';
import { describeVerdict, runFaultCase } from './run-case.ts';

const stack = { brokers: inject('brokers'), registryUrl: inject('registryUrl') };
const reportFile = inject('faultReport');
const LOAD = { count: 20_000, rate: 5_000, seed: 31 };

describe('negative controls: a broken guarantee must fail reconciliation', () => {
  it('the sink commits a batch whose insert it skipped (sink.insert:skip@3): caught', async () => {
    const verdict = await runFaultCase({
      fault: 'CONTROL sink commits a batch it never inserted (sink.insert:skip@3)',
      stack,
      reportFile,
      copies: [
        { processor: 'ingest', instanceId: '0' },
        { processor: 'sink', instanceId: '0', fault: 'sink.insert:skip@3' },
      ],
      load: LOAD,
      expectation: 'must-fail',
    });
    expect(verdict.passed, describeVerdict(verdict)).toBe(true);
    // The point counts every target's insert, so the skipped one is the requests' or the dead letters'
    // (whichever the third flush wrote first): rows are lost in ClickHouse, none in Kafka.
    const { missing, deadLetters } = verdict.outcome;
    expect(missing.kafka).toBe(0);
    expect(missing.clickhouse + (deadLetters.expected - deadLetters.clickhouse)).toBeGreaterThan(0);
  });

  it('the processor commits a batch whose outputs it skipped (processor.produce:skip@3): caught', async () => {
    const fault = 'processor.produce:skip@3';
    const verdict = await runFaultCase({
      fault: `CONTROL processor commits offsets of a batch it never produced (${fault})`,
      stack,
      reportFile,
      copies: [
        { processor: 'ingest', instanceId: '0', fault },
        { processor: 'sink', instanceId: '0' },
      ],
      load: LOAD,
      expectation: 'must-fail',
    });
    expect(verdict.passed, describeVerdict(verdict)).toBe(true);
    expect(verdict.outcome.missing.kafka).toBeGreaterThan(0);
  });

  // Skipping only the rewind no longer breaks anything: the consumer refuses to consume past an
  // uncommitted position (TRIBUTARY_KAFKA_POSITION_UNCOMMITTED), the copy stops, restarts, and is exact.
  it('the processor skips the rewind after an abort: the position guard stops it, exact', async () => {
    const fault = 'processor.send-offsets:fail@3,processor.rewind:skip';
    const verdict = await runFaultCase({
      fault: `processor skips the rewind after an abort (${fault})`,
      stack,
      reportFile,
      copies: [
        { processor: 'ingest', instanceId: '0', fault },
        { processor: 'sink', instanceId: '0' },
      ],
      load: LOAD,
    });
    expect(verdict.passed, describeVerdict(verdict)).toBe(true);
  });
});
