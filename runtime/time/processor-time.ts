// A processor's event time as the runtime sets it up from the definition: the rules from its config,
// the `watermarks` store a processor with a timer persists its progress in, and the metrics.
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { AnyProcessorDefinition } from '../app/processor/definition.ts';
import type { Logger } from '../observability/index.ts';
import { keyedStore } from '../state/index.ts';
import type { KeyedStore, StateManager, StoreDeclaration } from '../state/index.ts';
import { EventTime } from './event-time.ts';
import type { EventTimeRules, ProgressStore } from './event-time.ts';
import type { ProgressSnapshot } from './partition-progress.ts';

/** The store holding a timer processor's per-partition progress: `<processor>.watermarks.changelog`. */
export const WATERMARKS_STORE = 'watermarks';
const PROGRESS_KEY = 'progress';
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** The stores the runtime keeps for a definition: its own, plus `watermarks` when it has a timer. */
export function declaredStores(definition: AnyProcessorDefinition): Record<string, StoreDeclaration> {
  const own = (definition.stores ?? {}) as Record<string, StoreDeclaration>;
  if (definition.onWatermark === undefined) return own;
  return { ...own, [WATERMARKS_STORE]: keyedStore('ProgressSnapshot') };
}

export function eventTimeRules(
  definition: AnyProcessorDefinition,
  config: Record<string, unknown>,
): EventTimeRules {
  const spec = definition.eventTime as
    { allowedLatenessMs?: (c: unknown) => number; idleTimeoutMs?: (c: unknown) => number } | undefined;
  return {
    allowedLatenessMs: spec?.allowedLatenessMs?.(config) ?? 0,
    // Every processor reads progress headers, so the runtime's idleTimeoutMs applies unless overridden.
    idleTimeoutMs:
      spec?.idleTimeoutMs?.(config) ??
      (typeof config['idleTimeoutMs'] === 'number' ? config['idleTimeoutMs'] : DEFAULT_IDLE_TIMEOUT_MS),
  };
}

export interface TimeMetrics {
  lateness: Histogram<'processor' | 'topic'>;
  idlePartitions: Counter<'processor' | 'topic'>;
}

/** `tributary_event_lateness_seconds` and `tributary_idle_partitions_total` on a processor's registry. */
export function registerTimeMetrics(registry: Registry): TimeMetrics {
  return {
    lateness: new Histogram({
      name: 'tributary_event_lateness_seconds',
      help:
        'How far behind its input partition\u2019s event-time progress each record arrived (0: in order); ' +
        'an allowed lateness at a quantile of this covers that share of events',
      labelNames: ['processor', 'topic'],
      buckets: [0, 1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers: [registry],
    }),
    idlePartitions: new Counter({
      name: 'tributary_idle_partitions_total',
      help: 'Times an input partition went idle (no records for idleTimeoutMs): its windows close by wall clock',
      labelNames: ['processor', 'topic'],
      registers: [registry],
    }),
  };
}

export interface ProcessorTimeOptions {
  inputTopic: string;
  inputPartitions: number;
  config: Record<string, unknown>;
  log: Logger;
  state: StateManager | undefined;
  metrics?: TimeMetrics;
  /** Lateness observations for tests (the harness), besides the metric. */
  onLateness?: (seconds: number) => void;
}

export function createEventTime(
  definition: AnyProcessorDefinition,
  options: ProcessorTimeOptions,
): EventTime {
  const { inputTopic, log, metrics, state } = options;
  const labels = { processor: definition.name, topic: inputTopic };
  const rules = eventTimeRules(definition, options.config);
  const lateness = metrics?.lateness.labels(labels);
  const store = definition.onWatermark === undefined ? undefined : progressStore(state);
  return new EventTime({
    inputTopic,
    inputPartitions: options.inputPartitions,
    rules,
    log,
    ...(store === undefined ? {} : { store }),
    onLateness: (seconds) => {
      lateness?.observe(seconds);
      options.onLateness?.(seconds);
    },
    onIdle: (partition) => {
      metrics?.idlePartitions.inc(labels);
      log.info(
        { partition, idleTimeoutMs: rules.idleTimeoutMs },
        `input partition ${partition} is idle (no records for ${rules.idleTimeoutMs} ms): its windows now close by wall clock`,
      );
    },
  });
}

function progressStore(state: StateManager | undefined): ProgressStore | undefined {
  if (state === undefined) return undefined;
  const storeOf = (partition: number) =>
    state.store(WATERMARKS_STORE, partition) as unknown as KeyedStore<ProgressSnapshot>;
  return {
    read: (partition) => storeOf(partition).get(PROGRESS_KEY),
    write: (partition, snapshot) => storeOf(partition).set(PROGRESS_KEY, snapshot),
  };
}
