// The dashboards against a real run: every pipeline member (infra/pipeline/members.ts, what compose runs
// too) as its own process, reference data and a short load generator run with bad, duplicate and late
// events and an incident. Then every ClickHouse panel query, expanded as Grafana's plugin expands it, runs
// through the sink's query endpoint (the local data source) and must return rows of the panel's shape;
// every PromQL expression must name metrics and labels the processes serve on their /metrics.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { clickhouseSink } from '../../connectors/clickhouse/clickhouse-sink.ts';
import { checkDashboardPanels } from '../../dashboards/check-panels.ts';
import type { PanelCheck } from '../../dashboards/check-panels.ts';
import { checkPromQl } from '../../dashboards/promql.ts';
import { PIPELINE_MEMBERS } from '../../infra/pipeline/members.ts';
import { Supervisor } from '../../infra/pipeline/supervisor.ts';
import { findFreePort } from '../../infra/stack/stack.ts';
import {
  buildFleet,
  generatorOptionsSchema,
  loadReferenceData,
  referenceTimeline,
  runLoadgen,
} from '../../loadgen/index.ts';
import { waitForGroupCaughtUp } from '../../runtime/kafka/index.ts';
import { HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import { deleteTopicsWithPrefix, uniquePrefix } from '../../runtime/testing/kafka-test-kit.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-dashboards-'));
const prefix = uniquePrefix('dashboards');
const SINK = 'clickhouse-sink';

/** Panels an honest run may leave empty, and why. */
const MAY_BE_EMPTY = new Map<string, string>();

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, prefix);
});

/** Waits until the sink has written everything upstream produced (each stage caught up in flow order). */
async function waitForPipeline(): Promise<void> {
  await waitForGroupCaughtUp(brokers, `${prefix}ingest`, `${prefix}requests.raw`);
  await waitForGroupCaughtUp(brokers, `${prefix}enrich`, `${prefix}requests.valid`);
  const skipped = (
    PIPELINE_MEMBERS.find((m) => m.name === SINK)?.env?.TRIBUTARY_SINK_SKIP_TOPICS ?? ''
  ).split(',');
  for (const { topic } of clickhouseSink.bindings.filter((b) => !skipped.includes(b.topic)))
    await waitForGroupCaughtUp(brokers, `${prefix}${SINK}`, `${prefix}${topic}`);
}

function describeCheck(c: PanelCheck): string {
  return `${c.dashboard} / ${c.panel} (${c.selection}): ${c.status} ${c.problem ?? ''}\n  ${c.sql}`;
}

describe('the dashboards over a real run', () => {
  it('every panel query returns rows of its shape; every PromQL names exported metrics', async () => {
    const queryPort = await findFreePort();
    const supervisor = new Supervisor({
      members: PIPELINE_MEMBERS.map((m) => ({ name: m.name, copies: 1, ...(m.env ? { env: m.env } : {}) })),
      env: {
        TRIBUTARY_KAFKA_BROKERS: brokers,
        TRIBUTARY_REGISTRY_URL: registryUrl,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        TRIBUTARY_DEFAULT_PARTITIONS: '3',
        TRIBUTARY_STATE_DIR: join(workDir, 'state'),
        TRIBUTARY_SESSION_TIMEOUT_MS: '6000',
        TRIBUTARY_CLICKHOUSE_DATA_DIR: join(workDir, 'clickhouse'),
        TRIBUTARY_QUERY_PORT: String(queryPort),
      },
      logDir: workDir,
    });
    const generator = generatorOptionsSchema.parse({
      seed: 5,
      count: 30_000,
      rate: 10_000,
      startMs: Date.now(),
    });
    try {
      await loadReferenceData({
        brokers,
        registry: new HttpSchemaRegistry(registryUrl),
        topicPrefix: prefix,
        fleet: { seed: 5 },
        timeline: referenceTimeline(buildFleet({ seed: 5 }), generator),
      });
      await supervisor.start();
      await supervisor.waitUntilReady();
      await runLoadgen({
        brokers,
        topicPrefix: prefix,
        partitions: 3,
        generator,
        runsDir: join(workDir, 'runs'),
      });
      await waitForPipeline();

      // Quiet: a table another stage has not landed yet is an expected, reported answer here.
      const client = createClient({
        url: `http://127.0.0.1:${queryPort}`,
        log: { level: ClickHouseLogLevel.OFF },
      });
      const checks = await checkDashboardPanels(client, {
        fromMs: generator.startMs - 3_600_000,
        toMs: Date.now(),
      });
      await client.close();
      const failed = checks.filter((c) => c.status === 'failed');
      expect(failed.map(describeCheck)).toEqual([]);
      const empty = checks.filter((c) => c.status === 'ok' && c.rows === 0 && !MAY_BE_EMPTY.has(c.panel));
      expect(empty.map(describeCheck)).toEqual([]);
      // Tables another stage lands later are named, not silently passed.
      const missing = [
        ...new Set(
          checks.filter((c) => c.status === 'missing_table').map((c) => `${c.dashboard} / ${c.panel}`),
        ),
      ];
      console.log(
        `dashboard panels checked: ${checks.filter((c) => c.status === 'ok').length} queries ok; not checkable (table missing): ${missing.join('; ') || 'none'}`,
      );
      for (const table of ['requests', 'dead_letters'])
        expect(
          checks.some((c) => c.status === 'ok' && c.rows > 0 && new RegExp(`FROM ${table}\\b`).test(c.sql)),
        ).toBe(true);

      const pages = await Promise.all(
        supervisor
          .status()
          .map(async (copy) => (await fetch(`http://127.0.0.1:${copy.port}/metrics`)).text()),
      );
      const promql = checkPromQl(pages);
      expect(promql.problems).toEqual([]);
      expect(promql.checked).toBeGreaterThan(10);
      console.log(
        `PromQL targets checked: ${promql.checked}; labels without samples to check: ${promql.unverified.join(', ') || 'none'}`,
      );
    } finally {
      const exits = await supervisor.stop();
      expect(exits.map((e) => e.code)).toEqual(exits.map(() => 0));
    }
  });
});
