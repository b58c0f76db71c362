// A supervised ingest copy, SIGKILLed, comes back by itself: the supervisor restarts it with the same
// instance id, it becomes ready again, and stop() ends it with exit code 0.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { deleteTopicsWithPrefix, uniquePrefix } from '../../runtime/testing/kafka-test-kit.ts';
import { Supervisor } from './supervisor.ts';
import type { MemberObservation, SupervisorEvent } from './supervisor.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');

async function observeUntil(
  supervisor: Supervisor,
  what: string,
  check: (member: MemberObservation) => boolean,
  timeoutMs = 30_000,
): Promise<MemberObservation> {
  const deadline = Date.now() + timeoutMs;
  let last: MemberObservation | undefined;
  while (Date.now() < deadline) {
    [last] = await supervisor.observe();
    if (last !== undefined && check(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} not seen within ${timeoutMs} ms; last: ${JSON.stringify(last?.copies)}`);
}

describe('Supervisor with a real ingest process', () => {
  const prefix = uniquePrefix('supervisor');
  const dir = mkdtempSync(join(tmpdir(), 'tributary-supervisor-'));
  const events: SupervisorEvent[] = [];
  const supervisor = new Supervisor({
    members: [{ name: 'ingest', copies: 1 }],
    env: {
      TRIBUTARY_KAFKA_BROKERS: brokers,
      TRIBUTARY_REGISTRY_URL: registryUrl,
      TRIBUTARY_TOPIC_PREFIX: prefix,
      TRIBUTARY_DEFAULT_PARTITIONS: '2',
      TRIBUTARY_STATE_DIR: join(dir, 'state'),
      // The killed copy's partitions go to its successor once the broker gives up on it.
      TRIBUTARY_SESSION_TIMEOUT_MS: '6000',
    },
    logDir: join(dir, 'logs'),
    backoff: { initialMs: 500, maxMs: 5000, resetAfterMs: 60_000 },
    onEvent: (event) => events.push(event),
  });

  afterAll(async () => {
    await supervisor.stop();
    await deleteTopicsWithPrefix(brokers, prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  it('restarts a SIGKILLed copy, which becomes ready again, and stops it cleanly', async () => {
    await supervisor.start();
    await observeUntil(supervisor, 'the first copy ready', (m) => m.ready === 1);
    const [before] = supervisor.status();
    expect(before?.pid).toBeDefined();

    process.kill(before?.pid ?? 0, 'SIGKILL');
    const after = await observeUntil(
      supervisor,
      'the restarted copy ready',
      (m) => m.restarts === 1 && m.ready === 1,
    );
    expect(after).toMatchObject({ up: 1, desired: 1, restarts: 1 });
    const [restarted] = supervisor.status();
    expect(restarted?.pid).not.toBe(before?.pid);
    expect(restarted?.lastExit).toMatchObject({ signal: 'SIGKILL', kind: 'killed' });
    expect(events.filter((e) => e.type === 'started').map((e) => e.copy)).toEqual(['ingest#0', 'ingest#0']);

    const exits = await supervisor.stop();
    expect(exits).toEqual([{ copy: 'ingest#0', code: 0, signal: null, forced: false }]);
    expect(supervisor.status()[0]?.state).toBe('stopped');
  });
});
