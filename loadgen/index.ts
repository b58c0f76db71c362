// The load generator: a seeded fleet, its raw request events with injected faults, and the ground truth
// the reconciler and the tests compare the pipeline's results with.
export { buildFleet } from './fleet.ts';
export type { Fleet, FleetOptions, FleetService, Endpoint, FleetCustomer } from './fleet.ts';
export { EventGenerator, runTag } from './generator.ts';
export type { Delivery, Timing, ValidEvent } from './generator.ts';
export { BAD_CLASSES, EXPECTED_REASON, OVERSIZED_FIELD_BYTES } from './bad-events.ts';
export type { BadClass } from './bad-events.ts';
export { generatorOptionsSchema, eventSpanMs, parseBadSpec, spreadBad, startEndingAt } from './options.ts';
export type { EventTimeShape, GeneratorInput, GeneratorOptions } from './options.ts';
export { parseDurationS } from './duration.ts';
export {
  INCIDENT_KINDS,
  defaultIncidents,
  incidentPerKind,
  incidentSchema,
  parseIncidentSpec,
} from './incidents.ts';
export type { Incident, IncidentKind, IncidentSpec } from './incidents.ts';
export { incidentsOf } from './incident-truth.ts';
export type { InjectedIncident } from './incident-truth.ts';
export { TruthRecorder } from './truth.ts';
export type { DeliveryCounts, Truth, TruthIncident, TruthStats } from './truth.ts';
export {
  RUNS_DIR,
  generatorOptionsFromTruth,
  loadTruth,
  newRunId,
  saveTruth,
  truthPath,
} from './truth-store.ts';
export { RAW_TOPIC, runLoadgen } from './run-loadgen.ts';
export { BATCH_RECORDS, InlineBatchSource, WorkerBatchSource } from './batch-source.ts';
export type { BatchSource } from './batch-source.ts';
export { FACT, FACT_STRIDE, KIND_BAD, KIND_DUPLICATE, KIND_ORIGINAL, packBatch } from './record-batch.ts';
export type { RecordBatch } from './record-batch.ts';
export type { LoadgenResult, LoadgenRunOptions } from './run-loadgen.ts';
export { summaryTable, shortfallStatement } from './progress.ts';
export type { RunSummary } from './progress.ts';
export { CUSTOMERS_TOPIC, SERVICES_TOPIC, loadReferenceData, referenceContracts } from './reference-load.ts';
export type { ReferenceLoadOptions, ReferenceLoadResult } from './reference-load.ts';
export { customerRecords, serviceRecords } from './reference-data.ts';
export type { CustomerRecord, ServiceRecord } from './reference-data.ts';
export { reconcileIngestTopics } from './reconcile-topics.ts';
export type { ReconcileCheck, TopicsReconciliation, ReconcileTopicsOptions } from './reconcile-topics.ts';
export { reconcileClickHouse, runPrefix } from './reconcile-clickhouse.ts';
export type { CellMismatch, ClickHouseReconciliation, SelectRows } from './reconcile-clickhouse.ts';
export { ReferenceAtTime, referenceTimeline, timelineRecords } from './reference-timeline.ts';
export type { ReferenceChange, ReferenceRecord, ReferenceTimeline } from './reference-timeline.ts';
export type { EnrichedCell } from './enriched-truth.ts';
export { reconcileEnriched } from './reconcile-enriched.ts';
export type { EnrichedMismatch, EnrichedReconciliation } from './reconcile-enriched.ts';
export { REFERENCE_TABLES, editReference } from './reference-edit.ts';
export type { ReferenceEdit, ReferenceTableName } from './reference-edit.ts';
export {
  STATS_FIELDS,
  STATS_TABLE,
  STATS_TOPIC,
  compareGroups,
  reconcileStats,
  statsTableExists,
  truthGroups,
} from './reconcile-stats.ts';
export type { StatsDifference, StatsField, StatsReconciliation, StatsValues } from './reconcile-stats.ts';
export { ALERTS_TABLE, alertEdgesIn, episodesOf, reconcileAlerts } from './reconcile-alerts.ts';
export type {
  AlertEdge,
  AlertReconciliation,
  Episode,
  IncidentVerdict,
  RuleTiming,
} from './reconcile-alerts.ts';
