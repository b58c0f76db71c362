// A process started while Kafka or the registry is unreachable (issue 9, the "new user" case): it used to
// print raw librdkafka objects and exit 1 after 5 s with "Local: Broker transport failure". Now it waits
// with backoff, says so in JSON logs and /readyz naming the address, and stops with exit 2 and what to
// check at its deadline; running copies keep going on cached schemas while the registry is down.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createTopics,
  deleteTopicsWithPrefix,
  produceRecords,
  readTopic,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../runtime/testing/kafka-test-kit.ts';
import { findFreePort } from '../../infra/stack/stack.ts';
import { processEnv, startProcessor } from '../../infra/pipeline/processor-process.ts';
import { rawEvent } from '../../processors/ingest/test-events.ts';
import { TcpGate } from './tcp-gate.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-startup-'));

interface Readiness {
  status: number;
  reason: string;
}

async function readyz(port: number): Promise<Readiness | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    const body = (await response.json()) as { reason: string };
    return { status: response.status, reason: body.reason };
  } catch {
    return undefined; // not listening yet
  }
}

async function waitForReadiness(port: number, matches: (r: Readiness) => boolean, what: string) {
  const deadline = Date.now() + 60_000;
  let last: Readiness | undefined;
  while (Date.now() < deadline) {
    last = await readyz(port);
    if (last !== undefined && matches(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`/readyz never showed ${what}; last: ${JSON.stringify(last)}`);
}

/** Every line the process printed, parsed: each must be one JSON object (pino), none a raw object. */
function jsonLines(logFile: string): Array<Record<string, unknown>> {
  const lines = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  return lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON log line: ${line}`);
    }
  });
}

const events = (ids: string[]) =>
  ids.map((id) => ({ key: id, value: rawEvent({ event_id: `"${id}"`, ts: String(Date.now()) }) }));

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, 't-startup-');
});

describe('starting while a dependency is unreachable', () => {
  it('waits for an unreachable broker, says so in JSON logs and /readyz, then exits 2 saying what to check', async () => {
    const deadPort = await findFreePort();
    const httpPort = await findFreePort();
    const logFile = join(workDir, 'no-broker.log');
    const env = processEnv(
      { brokers: `127.0.0.1:${deadPort}`, registryUrl, prefix: uniquePrefix('startup'), stateDir: workDir },
      { TRIBUTARY_STARTUP_DEADLINE_MS: '8000', TRIBUTARY_HTTP_PORT: String(httpPort) },
    );
    const ingest = startProcessor('ingest', env, logFile);
    const waiting = await waitForReadiness(httpPort, (r) => r.reason.startsWith('waiting'), 'waiting');
    expect(waiting.status).toBe(503);
    expect(waiting.reason).toContain(`waiting for Kafka at 127.0.0.1:${deadPort}`);
    const exit = await ingest.exited;
    expect(exit.code).toBe(2);

    const lines = jsonLines(logFile);
    const clientLines = lines.filter((line) => line['component'] === 'kafka-client');
    expect(clientLines.some((line) => String(line['msg']).includes('Connection refused'))).toBe(true);
    const waits = lines.filter((line) => line['dependency'] === `Kafka at 127.0.0.1:${deadPort}`);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits.every((line) => line['level'] === 40 && typeof line['retryInMs'] === 'number')).toBe(true);
    const final = lines.find((line) => String(line['msg']).startsWith('stopping on error'));
    expect(String(final?.['msg'])).toContain(`Kafka at 127.0.0.1:${deadPort} did not answer`);
    expect(String(final?.['msg'])).toContain('TRIBUTARY_KAFKA_BROKERS');
  });

  it('goes on by itself once the broker answers', async () => {
    const gate = new TcpGate(await findFreePort(), { host: '127.0.0.1', port: brokerPort() });
    const httpPort = await findFreePort();
    const prefix = uniquePrefix('startup');
    const env = processEnv(
      { brokers: `127.0.0.1:${gate.port}`, registryUrl, prefix, stateDir: workDir },
      { TRIBUTARY_HTTP_PORT: String(httpPort), TRIBUTARY_DEFAULT_PARTITIONS: '1' },
    );
    const ingest = startProcessor('ingest', env, join(workDir, 'late-broker.log'));
    await waitForReadiness(httpPort, (r) => r.reason.includes(`Kafka at 127.0.0.1:${gate.port}`), 'waiting');
    await gate.open();
    try {
      await waitForReadiness(httpPort, (r) => r.status === 200, 'ready');
      await produceRecords(brokers, `${prefix}requests.raw`, events(['evt-1', 'evt-2']));
      await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`, 60_000);
      expect((await readTopic(brokers, `${prefix}requests.valid`, 1)).length).toBe(2);
      ingest.kill('SIGTERM');
      expect((await ingest.exited).code).toBe(0);
    } finally {
      await gate.close();
    }
  });

  it('waits for the registry at start, then keeps going on cached schemas while it is down for 20 s', async () => {
    const registry = new URL(registryUrl);
    const gate = new TcpGate(await findFreePort(), { host: registry.hostname, port: Number(registry.port) });
    const httpPort = await findFreePort();
    const prefix = uniquePrefix('startup');
    await createTopics(brokers, [{ name: `${prefix}requests.raw`, partitions: 1, cleanupPolicy: 'delete' }]);
    const gatedUrl = `http://127.0.0.1:${gate.port}${registry.pathname}`;
    const env = processEnv(
      { brokers, registryUrl: gatedUrl, prefix, stateDir: workDir },
      { TRIBUTARY_HTTP_PORT: String(httpPort), TRIBUTARY_DEFAULT_PARTITIONS: '1' },
    );
    const logFile = join(workDir, 'registry.log');
    const ingest = startProcessor('ingest', env, logFile);
    const waiting = await waitForReadiness(httpPort, (r) => r.reason.startsWith('waiting'), 'waiting');
    expect(waiting.reason).toContain(`waiting for the schema registry at http://127.0.0.1:${gate.port}`);
    await gate.open();
    await waitForReadiness(httpPort, (r) => r.status === 200, 'ready');
    await produceRecords(brokers, `${prefix}requests.raw`, events(['evt-a']));
    await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`, 60_000);

    await gate.close();
    const outageEnds = Date.now() + 20_000;
    await produceRecords(brokers, `${prefix}requests.raw`, events(['evt-b', 'evt-c']));
    // Caught up while the registry is still unreachable: the schema ids it writes come from its cache.
    await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`, 15_000);
    expect((await readTopic(brokers, `${prefix}requests.valid`, 1)).length).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, outageEnds - Date.now()));
    expect(ingest.child.exitCode).toBeNull();
    await gate.open();
    await produceRecords(brokers, `${prefix}requests.raw`, events(['evt-d']));
    await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`, 60_000);
    expect((await readTopic(brokers, `${prefix}requests.valid`, 1)).length).toBe(4);
    ingest.kill('SIGTERM');
    expect((await ingest.exited).code).toBe(0);
    await gate.close();
    expect(
      jsonLines(logFile).some((l) => String(l['msg']).startsWith('waiting for the schema registry')),
    ).toBe(true);
  });
});

function brokerPort(): number {
  return Number(brokers.split(',')[0]?.split(':')[1]);
}
