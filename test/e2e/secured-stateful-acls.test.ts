// Issue 17: the README's least-ACL rows for enrich, aggregate and alert, each run as a user holding exactly
// its rows and nothing else, on topics the operator (the test, on its super-user listener) made. enrich
// reads both reference tables; aggregate writes its window stores and the runtime's watermarks store to
// their changelogs and, SIGKILLed, restores them (the restore reads with the processor's group id); alert
// reads ref.services. With one right taken away a processor stops with exit 2 and names it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runProcessorToExit, startProcessor } from '../../infra/pipeline/processor-process.ts';
import { changeAcls } from '../../infra/stack/acls.ts';
import type { AclGrant } from '../../infra/stack/acls.ts';
import { buildFleet, loadReferenceData } from '../../loadgen/index.ts';
import type {
  AlertEvent,
  EnrichedRequest,
  RequestEvent,
  StatsMinute,
} from '../../runtime/contracts/index.ts';
import { HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import {
  produceRecords,
  readTopic,
  uniquePrefix,
  waitForGroupCaughtUp,
} from '../../runtime/testing/kafka-test-kit.ts';
import { createOperatorTopics, logMessages, processorAcls, stopMessage, topicGrant } from './secured-acls.ts';
import type { ProcessorTopics } from './secured-acls.ts';
import { readTopicUntil, saslSslEnv, securedProcessorEnv, startSecureCluster } from './secure-cluster.ts';
import type { SecureCluster, SecuredRun } from './secure-cluster.ts';
import { MINUTE, decodeValues, requestEvents, statsRows, valueEncoder } from './secured-stateful-records.ts';

// The README's rows ("Least ACLs"), one processor each.
const ENRICH: ProcessorTopics = {
  inputs: ['requests.valid'],
  outputs: ['requests.enriched'],
  tables: ['ref.services', 'ref.customers'],
};
const AGGREGATE: ProcessorTopics = {
  inputs: ['requests.enriched'],
  outputs: ['stats.1m', 'requests.dlq'],
  changelogs: ['windows', 'corrections', 'watermarks'].map((s) => `aggregate.${s}.changelog`),
};
const ALERT: ProcessorTopics = {
  inputs: ['stats.1m'],
  outputs: ['alerts'],
  changelogs: ['alert.services.changelog', 'alert.watermarks.changelog'],
  tables: ['ref.services'],
};

const registryUrl = inject('registryUrl');
const registry = new HttpSchemaRegistry(registryUrl);
const workDir = mkdtempSync(join(tmpdir(), 'tributary-acl-stateful-'));
const PARTITIONS = 2;
const SERVICES = 4;
const fleet = buildFleet({ seed: 1 });
// Event time an hour back, minute-aligned; reference data valid from an hour before that.
const T0 = Math.floor((Date.now() - 3_600_000) / MINUTE) * MINUTE;
let cluster: SecureCluster;

beforeAll(async () => {
  cluster = await startSecureCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

/**
 * A fresh prefix holding the fleet's reference tables and the processors' topics, the limited user granted
 * exactly the processors' rows (and nothing else); returns the grants by processor. enrich and aggregate
 * share the user, as ingest and the sink do in secured-kafka.test.ts: neither needs a right only the
 * other's rows hold, so one's rows cannot stand in for a row missing from the other's.
 */
async function freshRun(label: string, processors: Record<string, ProcessorTopics>) {
  const prefix = uniquePrefix(label);
  const brokers = cluster.plaintextBrokers;
  await loadReferenceData({
    brokers,
    registry,
    topicPrefix: prefix,
    fleet: { seed: 1 },
    updatedAt: T0 - 60 * MINUTE,
  });
  const all = Object.values(processors);
  await createOperatorTopics(brokers, prefix, PARTITIONS, {
    plain: [...new Set(all.flatMap((p) => [...p.inputs, ...p.outputs]))],
    compacted: all.flatMap((p) => p.changelogs ?? []),
  });
  const grants = new Map<string, AclGrant[]>();
  for (const [name, topics] of Object.entries(processors))
    grants.set(name, processorAcls(cluster.limited.name, prefix, name, topics));
  await changeAcls(brokers, 'add', [...grants.values()].flat());
  const run: SecuredRun = { registryUrl, prefix, stateDir: join(workDir, prefix), partitions: PARTITIONS };
  return { run, prefix, grants: (name: string) => grants.get(name) ?? [] };
}

/** The limited user's settings for a copy, with `extra`. */
function limitedEnv(run: SecuredRun, extra: Record<string, string> = {}): Record<string, string> {
  return securedProcessorEnv(cluster, run, saslSslEnv(cluster, cluster.limited), extra);
}

/** Records restored per store, from the `restored state store …` lines of a copy's log. */
function restoredRecords(logFile: string): Record<string, number> {
  const lines = readFileSync(logFile, 'utf8').split('\n');
  const restored = lines.filter((l) => l.includes('"msg":"restored state store'));
  return Object.fromEntries(
    restored.map((l) => JSON.parse(l) as { store: string; records: number }).map((l) => [l.store, l.records]),
  );
}

/** Runs a copy to its exit: exit 2 and its stop message, which must match `reason`. */
async function expectRefused(name: string, env: Record<string, string>, reason: string | RegExp) {
  const run = await runProcessorToExit(name, env);
  expect(run.code, run.output).toBe(2);
  expect(stopMessage(run.output)).toMatch(reason);
  return logMessages(run.output);
}

describe('the stateful processors on exactly their documented ACLs', () => {
  it('enrich and aggregate run on their rows; a SIGKILLed aggregate restores from its changelogs and goes on; without WRITE or READ on a changelog it stops naming it', async () => {
    const { run, prefix, grants } = await freshRun('aclagg', { enrich: ENRICH, aggregate: AGGREGATE });
    const encode = await valueEncoder<RequestEvent>(registry, `${prefix}requests.valid`, 'RequestEvent');
    const produce = (fromMs: number, toMs: number) =>
      produceRecords(
        cluster.plaintextBrokers,
        `${prefix}requests.valid`,
        requestEvents(fleet, SERVICES, T0, fromMs, toMs).map((e) => ({
          key: e.event_id,
          value: encode(e),
          timestamp: e.ts,
        })),
      );
    // The first copy never idles (its open window must still be open when it is killed); later ones
    // close the last window by wall clock soon after the input ends.
    const aggregateEnv = (idleTimeoutMs: number) =>
      limitedEnv(run, {
        TRIBUTARY_ALLOWED_LATENESS_MS: '5000',
        TRIBUTARY_IDLE_TIMEOUT_MS: String(idleTimeoutMs),
      });
    const stats = async (count: number) =>
      decodeValues<StatsMinute>(
        registry,
        await readTopicUntil(cluster, `${prefix}stats.1m`, PARTITIONS, count),
      );

    const enrich = startProcessor('enrich', limitedEnv(run), join(workDir, 'enrich.log'));
    let aggregate = startProcessor('aggregate', aggregateEnv(600_000), join(workDir, 'aggregate-1.log'));
    // Minutes 0 and 1 close on the watermark while minute 2 is half full: then the copy dies.
    await produce(0, 2.5 * MINUTE);
    expect(await stats(2 * SERVICES)).toHaveLength(2 * SERVICES);
    aggregate.kill('SIGKILL');
    expect((await aggregate.exited).signal).toBe('SIGKILL');
    await produce(2.5 * MINUTE, 5 * MINUTE);
    const restartLog = join(workDir, 'aggregate-2.log');
    aggregate = startProcessor('aggregate', aggregateEnv(3_000), restartLog);
    await stats(5 * SERVICES);
    aggregate.kill('SIGTERM');
    expect((await aggregate.exited).code).toBe(0);

    // Every (service, minute) once, with all its 60 events: minute 2's first half came back from the
    // changelog, its second half was added by the restarted copy.
    const rows = await stats(5 * SERVICES);
    expect(new Set(rows.map((r) => `${r.service}|${r.window_start}|${r.revision}`)).size).toBe(5 * SERVICES);
    expect(rows.map((r) => r.requests)).toEqual(rows.map(() => 60));
    const restored = restoredRecords(restartLog);
    expect(Object.keys(restored).sort()).toEqual(['corrections', 'watermarks', 'windows']);
    expect(restored['windows']).toBeGreaterThan(0);
    expect(restored['watermarks']).toBeGreaterThan(0);
    // The team came from ref.services through enrich; no lookup missed either table.
    const teams = new Map(fleet.services.map((s) => [s.name, s.team]));
    expect(rows.every((r) => r.team === teams.get(r.service))).toBe(true);
    const enriched = await readTopic(cluster.plaintextBrokers, `${prefix}requests.enriched`, PARTITIONS);
    const misses = (await decodeValues<EnrichedRequest>(registry, enriched)).filter(
      (e) => e.service_miss !== null || e.customer_miss !== null,
    );
    expect(misses).toEqual([]);

    // Without WRITE on the windows changelog a copy restores, takes a record and cannot commit: the stop
    // names the right, librdkafka's error the topic. Without READ on it, the restore stops naming it.
    const windows = `${prefix}${AGGREGATE.changelogs?.[0]}`;
    const windowsWrite = topicGrant(grants('aggregate'), windows, 'WRITE');
    await changeAcls(cluster.plaintextBrokers, 'remove', windowsWrite);
    await produce(5 * MINUTE, 5.5 * MINUTE);
    const noWrite = await expectRefused(
      'aggregate',
      aggregateEnv(3_000),
      /^stopping on error: commitTransaction: not authorized: .*WRITE/,
    );
    const refusedAdd = `Failed to add partition "${windows}" \\[\\d+\\] to transaction: Broker: Topic authorization failed`;
    expect(noWrite).toContainEqual(expect.stringMatching(refusedAdd));
    await changeAcls(cluster.plaintextBrokers, 'add', windowsWrite);
    await changeAcls(cluster.plaintextBrokers, 'remove', topicGrant(grants('aggregate'), windows, 'READ'));
    await expectRefused(
      'aggregate',
      aggregateEnv(3_000),
      `stopping on error: reading ${windows}: not authorized`,
    );
    enrich.kill('SIGTERM');
    expect((await enrich.exited).code).toBe(0);
  });

  it('alert reads ref.services and its input on its rows and commits; without READ on ref.services it stops naming it', async () => {
    const { run, prefix, grants } = await freshRun('aclalert', { alert: ALERT });
    const encode = await valueEncoder<StatsMinute>(registry, `${prefix}stats.1m`, 'StatsMinute');
    const rows = statsRows(fleet, T0, 8);
    await produceRecords(
      cluster.plaintextBrokers,
      `${prefix}stats.1m`,
      rows.map((r) => ({ key: r.service, value: encode(r), timestamp: r.window_end })),
    );
    // Never idle: an idle partition would move on by the clock and judge every service silent.
    const env = limitedEnv(run, { TRIBUTARY_IDLE_TIMEOUT_MS: '600000' });
    const copy = startProcessor('alert', env, join(workDir, 'alert.log'));
    await waitForGroupCaughtUp(cluster.plaintextBrokers, `${prefix}alert`, `${prefix}stats.1m`, 90_000);
    const alerts = await decodeValues<AlertEvent>(
      registry,
      await readTopic(cluster.plaintextBrokers, `${prefix}alerts`, PARTITIONS),
    );
    // The rows carry no SLO: only ref.services' latency SLO makes the slow service's latency a breach.
    expect(alerts.map((a) => `${a.service} ${a.rule} ${a.state}`)).toEqual([
      `${fleet.services[0]?.name} LatencyAboveSlo FIRING`,
    ]);
    copy.kill('SIGTERM');
    expect((await copy.exited).code).toBe(0);

    const servicesRead = topicGrant(grants('alert'), `${prefix}ref.services`, 'READ');
    await changeAcls(cluster.plaintextBrokers, 'remove', servicesRead);
    await expectRefused('alert', env, `stopping on error: following ${prefix}ref.services: not authorized`);
  });
});
