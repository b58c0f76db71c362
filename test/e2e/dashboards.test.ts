// The dashboards against a real run: every pipeline member (infra/pipeline/members.ts, what compose runs
// too) as its own process, reference data and a short load generator run with bad, duplicate and late
// events and an incident. Then every ClickHouse panel query, expanded as Grafana's plugin expands it, runs
// through the sink's query endpoint (the local data source) and must return rows of the panel's shape;
// every PromQL expression must name metrics and labels the processes serve on their /metrics.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { sinks } from '../../connectors/index.ts';
import { checkDashboardPanels } from '../../dashboards/check-panels.ts';
import type { PanelCheck } from '../../dashboards/check-panels.ts';
import { checkPromQl } from '../../dashboards/promql.ts';
import { PIPELINE_MEMBERS } from '../../infra/pipeline/members.ts';
import type { PipelineMember } from '../../infra/pipeline/members.ts';
import { Supervisor } from '../../infra/pipeline/supervisor.ts';
import { findFreePort } from '../../infra/stack/stack.ts';
import {
  buildFleet,
  generatorOptionsSchema,
  loadReferenceData,
  referenceTimeline,
  runLoadgen,
} from '../../loadgen/index.ts';
import { groupProgress, waitForGroupCaughtUp } from '../../runtime/kafka/index.ts';
import { processors } from '../../processors/index.ts';
import { HttpSchemaRegistry } from '../../runtime/serde/index.ts';
import { deleteTopicsWithPrefix, uniquePrefix } from '../../runtime/testing/kafka-test-kit.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');
const workDir = mkdtempSync(join(tmpdir(), 'tributary-dashboards-'));
const prefix = uniquePrefix('dashboards');
// What `tributary start` runs: every member with its default copies (the notifier, 0, needs a receiver).
const RUNNING = PIPELINE_MEMBERS.filter((m) => m.defaultCopies > 0);

afterAll(async () => {
  await deleteTopicsWithPrefix(brokers, prefix);
});

/** The topics a member reads: a processor's input, or a sink's bindings it does not skip. */
async function memberInputs(member: PipelineMember): Promise<string[]> {
  const processor = processors[member.name];
  if (processor !== undefined) return [(await processor()).input.topic];
  const sink = sinks[member.name];
  const skipped = (member.env?.TRIBUTARY_SINK_SKIP_TOPICS ?? '').split(',');
  const bindings = sink === undefined ? [] : (await sink()).bindings;
  return bindings.map((b) => b.topic).filter((t) => !skipped.includes(t));
}

/** Waits, member by member in data-flow order, until each has consumed what its inputs hold. */
async function waitForPipeline(): Promise<void> {
  for (const member of RUNNING)
    for (const topic of await memberInputs(member)) {
      // An input nothing has written to (yet) has no committed offset to wait for.
      const progress = await groupProgress(brokers, `${prefix}${member.name}`, `${prefix}${topic}`);
      if (progress.some((p) => p.end > 0))
        await waitForGroupCaughtUp(brokers, `${prefix}${member.name}`, `${prefix}${topic}`);
    }
}

/** The tables a query reads (FROM name). */
function tablesOf(sql: string): string[] {
  return [...sql.matchAll(/\bFROM\s+([a-z_][a-z0-9_]*)/gi)].map((m) => m[1] ?? '');
}

/** The tables the passing checks read that hold no row in this run. */
async function emptyTables(client: ClickHouseClient, checks: PanelCheck[]): Promise<Set<string>> {
  const empty = new Set<string>();
  for (const table of new Set(checks.filter((c) => c.status === 'ok').flatMap((c) => tablesOf(c.sql)))) {
    const query = `SELECT count() FROM ${table}`;
    const result = await (await client.query({ query, format: 'JSONCompact' })).json<[string]>();
    if (Number(result.data[0]?.[0]) === 0) empty.add(table);
  }
  return empty;
}

/** Until the aggregate's last windows have closed and landed (request_stats_1m holds every event). */
async function waitForStats(client: ClickHouseClient): Promise<void> {
  const query = `SELECT (SELECT count() FROM requests WHERE _topic = '${prefix}requests.enriched'),
    (SELECT sum(requests) FROM request_stats_1m WHERE _topic = '${prefix}stats.1m')`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const result = await (await client.query({ query, format: 'JSONCompact' })).json<[string, string]>();
    const [events = '0', counted = '0'] = result.data[0] ?? [];
    if ((Number(events) > 0 && Number(counted) >= Number(events)) || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

function describeCheck(c: PanelCheck): string {
  return `${c.dashboard} / ${c.panel} (${c.selection}): ${c.status} ${c.problem ?? ''}\n  ${c.sql}`;
}

describe('the dashboards over a real run', () => {
  it('every panel query returns rows of its shape; every PromQL names exported metrics', async () => {
    const queryPort = await findFreePort();
    const supervisor = new Supervisor({
      members: RUNNING.map((m) => ({
        name: m.name,
        copies: m.defaultCopies,
        ...(m.env ? { env: m.env } : {}),
      })),
      env: {
        TRIBUTARY_KAFKA_BROKERS: brokers,
        TRIBUTARY_REGISTRY_URL: registryUrl,
        TRIBUTARY_TOPIC_PREFIX: prefix,
        TRIBUTARY_DEFAULT_PARTITIONS: '3',
        TRIBUTARY_STATE_DIR: join(workDir, 'state'),
        TRIBUTARY_SESSION_TIMEOUT_MS: '6000',
        // A 3 s load in real time: windows close by the idle partitions' clock soon after it ends, so the
        // request_stats_1m panels get rows of their own, not only their types.
        TRIBUTARY_IDLE_TIMEOUT_MS: '3000',
        TRIBUTARY_ALLOWED_LATENESS_MS: '5000',
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
      await waitForStats(client);
      const checks = await checkDashboardPanels(client, {
        fromMs: generator.startMs - 3_600_000,
        toMs: Date.now(),
      });
      const empty = await emptyTables(client, checks);
      await client.close();
      expect(checks.filter((c) => c.status === 'failed').map(describeCheck)).toEqual([]);
      // No rows is right only for a panel over a table no member of this pipeline writes (yet).
      const noRows = checks.filter((c) => c.status === 'ok' && c.rows === 0);
      expect(noRows.filter((c) => !tablesOf(c.sql).some((t) => empty.has(t))).map(describeCheck)).toEqual([]);
      for (const table of ['requests', 'dead_letters', 'request_stats_1m'])
        expect(empty.has(table)).toBe(false);
      const named = (list: PanelCheck[]): string =>
        [...new Set(list.map((c) => `${c.dashboard} / ${c.panel}`))].join('; ') || 'none';
      console.log(
        `dashboard queries with rows of their panel's shape: ${checks.filter((c) => c.rows > 0).length} of ${checks.length}\n` +
          `types only (empty: ${[...empty].join(', ') || 'none'}): ${named(noRows)}\n` +
          `not checkable (table missing): ${named(checks.filter((c) => c.status === 'missing_table'))}`,
      );

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
