// One fault case: real ingest copies and a real ClickHouse sink on a stack, the load generator's
// traffic, a fault applied while it flows, then both reconcilers against the ground truth. The outcome
// is one row of the suite's table.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectRows } from '../../../connectors/clickhouse/index.ts';
import type { ResultsSettings } from '../../../connectors/clickhouse/index.ts';
import {
  generatorOptionsSchema,
  reconcileClickHouse,
  reconcileIngestTopics,
  runLoadgen,
} from '../../../loadgen/index.ts';
import type { ReconcileCheck, Truth } from '../../../loadgen/index.ts';
import { waitForGroupCaughtUp } from '../../../runtime/kafka/index.ts';
import { uniquePrefix } from '../../../runtime/testing/kafka-test-kit.ts';
import type { FaultOutcome } from './fault-report.ts';
import { SupervisedCopy, caseEnv, waitForReady } from './supervised-copy.ts';
import type { CaseStack, CopyExit, CopySpec } from './supervised-copy.ts';

export const PARTITIONS = 6;

export interface LoadSpec {
  count: number;
  rate: number;
  seed: number;
}

export interface SettleOptions {
  /** Longest wait for every group to commit up to the end of its input. Default 120 s. */
  timeoutMs?: number;
}

export class FaultCase {
  readonly prefix: string;
  readonly workDir: string;
  readonly copies: SupervisedCopy[] = [];
  private readonly startedAt = Date.now();
  private readonly env: Record<string, string>;
  private readonly clickhouse: ResultsSettings;
  private settleProblem: string | undefined;
  /** Milliseconds from the case's start to the end of settle(). */
  settledAtMs = Number.POSITIVE_INFINITY;

  constructor(
    readonly fault: string,
    readonly stack: CaseStack,
  ) {
    this.prefix = uniquePrefix('faults');
    this.workDir = mkdtempSync(join(tmpdir(), 'tributary-fault-'));
    this.env = caseEnv(stack, this.prefix, join(this.workDir, 'state'), PARTITIONS);
    this.clickhouse = {
      clickhouseDataDir: join(this.workDir, 'clickhouse'),
      clickhouseUser: 'default',
      clickhousePassword: '',
      clickhouseDatabase: 'default',
      queryPort: 0,
    };
  }

  /** Starts a copy; sink copies share the case's ClickHouse data dir. */
  start(spec: CopySpec): SupervisedCopy {
    // Port 0: the query endpoint on a free port, never the fixed 8123 another run may hold.
    const sinkEnv =
      spec.processor === 'sink'
        ? { TRIBUTARY_CLICKHOUSE_DATA_DIR: this.clickhouse.clickhouseDataDir, TRIBUTARY_QUERY_PORT: '0' }
        : {};
    const log = join(this.workDir, `${spec.processor}-${spec.instanceId}.log`);
    const copy = new SupervisedCopy(
      { ...spec, env: { ...sinkEnv, ...spec.env } },
      this.env,
      log,
      this.startedAt,
    );
    this.copies.push(copy);
    return copy;
  }

  /** Produces the load; resolves with its ground truth once every record is acknowledged (or failed). */
  async load(spec: LoadSpec): Promise<Truth> {
    const generator = generatorOptionsSchema.parse({ ...spec, startMs: Date.now() });
    const result = await runLoadgen({
      brokers: this.stack.brokers,
      topicPrefix: this.prefix,
      partitions: PARTITIONS,
      generator,
      runsDir: join(this.workDir, 'runs'),
      progress: false,
    });
    return result.truth;
  }

  /** Waits for ingest and the sink to commit everything; a timeout is recorded, not thrown. */
  async settle(options: SettleOptions = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    const groups: Array<[string, string]> = [
      ['ingest', 'requests.raw'],
      ['clickhouse-sink', 'requests.valid'],
      ['clickhouse-sink', 'requests.dlq'],
    ];
    for (const [group, topic] of groups) {
      const problem = await caughtUpBy(
        this.stack.brokers,
        this.prefix + group,
        this.prefix + topic,
        deadline,
      );
      if (problem !== undefined) {
        this.settleProblem = problem;
        return;
      }
    }
  }

  /** Stops every copy (SIGTERM), then reconciles topics and ClickHouse with the truth. */
  async finish(truth: Truth): Promise<FaultOutcome> {
    // A copy restarted moments ago may still be starting: stop it once it runs, as an operator would.
    await Promise.all(this.copies.map((c) => waitForReady(c, 30_000)));
    const stopCodes = await Promise.all(this.copies.map((c) => c.stop()));
    const topics = await reconcileIngestTopics({
      brokers: this.stack.brokers,
      registryUrl: this.stack.registryUrl,
      topicPrefix: this.prefix,
      partitions: PARTITIONS,
      truth,
    });
    const select = async (sql: string): Promise<unknown[][]> => (await selectRows(sql, this.clickhouse)).data;
    const clickhouse = await reconcileClickHouse(truth, select);
    return outcomeOf(this, truth, { topics: topics.checks, clickhouse: clickhouse.checks }, stopCodes);
  }

  get problems(): { settle: string | undefined; exits: Array<CopyExit & { copy: string }> } {
    return {
      settle: this.settleProblem,
      exits: this.copies.flatMap((c) =>
        c.exits.map((e) => ({ ...e, copy: `${c.spec.processor}-${c.spec.instanceId}` })),
      ),
    };
  }
}

/**
 * Waits for the group to catch up on the topic by `deadline`; undefined once it has, else the last
 * problem. A broker just thawed or restarted answers with timeouts for a while: those are waited out.
 */
async function caughtUpBy(
  brokers: string,
  group: string,
  topic: string,
  deadline: number,
): Promise<string | undefined> {
  for (;;) {
    try {
      await waitForGroupCaughtUp(brokers, group, topic, Math.max(1000, deadline - Date.now()));
      return undefined;
    } catch (error) {
      const problem = `${group} on ${topic}: ${error instanceof Error ? error.message : String(error)}`;
      if (Date.now() >= deadline) return problem;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function actual(checks: readonly ReconcileCheck[], name: string): number {
  return checks.find((c) => c.check === name)?.actual ?? Number.NaN;
}

function outcomeOf(
  run: FaultCase,
  truth: Truth,
  checks: { topics: ReconcileCheck[]; clickhouse: ReconcileCheck[] },
  stopCodes: Array<number | null>,
): FaultOutcome {
  const { topics, clickhouse } = checks;
  const kafkaValid = actual(topics, 'valid events');
  const kafkaDistinct = actual(topics, 'distinct valid event ids');
  const rows = actual(clickhouse, 'rows in requests');
  const distinct = actual(clickhouse, 'distinct event ids in requests');
  return {
    fault: run.fault,
    events: truth.acknowledged.deliveries,
    missing: { kafka: truth.valid_events - kafkaDistinct, clickhouse: truth.valid_events - distinct },
    duplicated: { kafka: kafkaValid - kafkaDistinct, clickhouse: rows - distinct },
    deadLetters: {
      expected: Object.values(truth.dead_letters).reduce((a, b) => a + b, 0),
      kafka: actual(topics, 'dead letters'),
      clickhouse: actual(clickhouse, 'rows in dead_letters'),
    },
    failedChecks: [...topics, ...clickhouse].filter((c) => !c.ok),
    exact: [...topics, ...clickhouse].every((c) => c.ok),
    exits: run.problems.exits,
    stopCodes,
    settleProblem: run.problems.settle,
    workDir: run.workDir,
  };
}
