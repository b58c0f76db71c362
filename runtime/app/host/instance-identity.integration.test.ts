// Regression (issue 9, finding 11): two live copies with one instance id (copies on two hosts that both
// took slot 0) fenced each other in turn for ever under a supervisor. Now the fenced one, restarted,
// finds its live twin in the group and exits 2 saying to give each copy its own TRIBUTARY_INSTANCE_ID.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { createTopics, produceRecords, uniquePrefix } from '../../testing/kafka-test-kit.ts';
import { processEnv, runProcessorToExit, startProcessor } from '../../../infra/pipeline/processor-process.ts';
import { EXIT_BAD_CONFIG, EXIT_FENCED } from '../processor/run-processor.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-identity-'));

describe('two live copies claiming one instance id', () => {
  it('stops the fencing loop: the fenced copy, restarted, exits 2 naming the problem, the other keeps running', async () => {
    const prefix = uniquePrefix('identity');
    const input = `${prefix}passthrough.in`;
    await createTopics(brokers, [
      { name: input, partitions: 2, cleanupPolicy: 'delete' },
      { name: `${prefix}passthrough.out`, partitions: 2, cleanupPolicy: 'delete' },
    ]);
    // Two hosts: separate state dirs, the same id (what slot 0 on each host would give).
    const onHost = (host: string) =>
      processEnv(
        { brokers, registryUrl, prefix, stateDir: join(workDir, host) },
        { TRIBUTARY_INSTANCE_ID: '0' },
      );
    const records = (from: number) =>
      Array.from({ length: 500 }, (_, i) => ({ key: `k${from + i}`, value: 'v' }));
    const hostA = startProcessor('passthrough', onHost('host-a'), join(workDir, 'a.log'));
    await produceRecords(brokers, input, records(0));
    const hostB = startProcessor('passthrough', onHost('host-b'), join(workDir, 'b.log'));
    // Which copy is fenced depends on which one initialises its transactions last; on a loaded machine
    // either may be first, so the test follows whichever one exits.
    const bothRunning = () => hostA.child.exitCode === null && hostB.child.exitCode === null;
    for (let i = 1; i <= 60 && bothRunning(); i++) {
      await produceRecords(brokers, input, records(i * 500));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (bothRunning()) {
      hostA.kill('SIGKILL');
      hostB.kill('SIGKILL');
      expect.fail('neither copy was fenced after 30 s of records');
    }
    const firstExit = await Promise.race([
      hostA.exited.then((exit) => ({ exit, fenced: 'host-a', live: hostB })),
      hostB.exited.then((exit) => ({ exit, fenced: 'host-b', live: hostA })),
    ]);
    expect(firstExit.exit.code).toBe(EXIT_FENCED);
    const live = firstExit.live;

    // What a supervisor does next: start the fenced host's copy again. It must not fence the live one back.
    const feeding = (async () => {
      for (let i = 100; i < 130 && live.child.exitCode === null; i++) {
        await produceRecords(brokers, input, records(i * 500));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();
    const restarted = await runProcessorToExit('passthrough', onHost(firstExit.fenced), 90_000);
    expect(restarted.code).toBe(EXIT_BAD_CONFIG);
    expect(restarted.output).toContain('another live copy');
    expect(restarted.output).toContain('TRIBUTARY_INSTANCE_ID');
    expect(live.child.exitCode).toBeNull();
    live.kill('SIGTERM');
    await feeding;
    expect((await live.exited).code).toBe(0);
  });
});
